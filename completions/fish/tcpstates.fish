complete -c tcpstates -s L -l localport -d 'Only connections with these local ports (comma-separated, at most 8)' -r
complete -c tcpstates -s D -l remoteport -d 'Only connections with these remote ports (comma-separated, at most 8)' -r
complete -c tcpstates -s p -l pid -d 'Trace this process only' -r
complete -c tcpstates -s t -l tid -d 'Trace this thread only' -r
complete -c tcpstates -s u -l uid -d 'Trace this user id only' -r
complete -c tcpstates -s c -l comm -d 'Trace processes with this exact name (comm, at most 15 bytes)' -r
complete -c tcpstates -l cgroup -d 'Trace this cgroup v2 only: a directory, a path relative to the cgroup v2 mount, or a cgroup id' -r
complete -c tcpstates -s d -l duration -d 'Stop after this many seconds (fractions allowed)' -r
complete -c tcpstates -s 4 -l ipv4 -d 'IPv4 connections only'
complete -c tcpstates -s 6 -l ipv6 -d 'IPv6 connections only'
complete -c tcpstates -s T -l timestamp -d 'Print a timestamp (local time) on each line'
complete -c tcpstates -s U -l print-uid -d 'Print the user id on each line'
complete -c tcpstates -l json -d 'Print JSON lines instead of a table (schema in ebpftop(7) and the README)'
complete -c tcpstates -s v -l verbose -d 'Say which attach path each program took, and other details, on stderr'
complete -c tcpstates -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tcpstates -s V -l version -d 'Print version'
