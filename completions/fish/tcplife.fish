complete -c tcplife -s L -l localport -d 'Only connections with these local ports (comma-separated, at most 8)' -r
complete -c tcplife -s D -l remoteport -d 'Only connections with these remote ports (comma-separated, at most 8)' -r
complete -c tcplife -s p -l pid -d 'Trace this process only' -r
complete -c tcplife -s t -l tid -d 'Trace this thread only' -r
complete -c tcplife -s u -l uid -d 'Trace this user id only' -r
complete -c tcplife -s c -l comm -d 'Trace processes with this exact name (comm, at most 15 bytes)' -r
complete -c tcplife -l cgroup -d 'Trace this cgroup v2 only: a directory, a path relative to the cgroup v2 mount, or a cgroup id' -r
complete -c tcplife -s d -l duration -d 'Stop after this many seconds (fractions allowed)' -r
complete -c tcplife -s 4 -l ipv4 -d 'IPv4 connections only'
complete -c tcplife -s 6 -l ipv6 -d 'IPv6 connections only'
complete -c tcplife -s T -l timestamp -d 'Print a timestamp (local time) on each line'
complete -c tcplife -s U -l print-uid -d 'Print the user id on each line'
complete -c tcplife -l json -d 'Print JSON lines instead of a table (schema in ebpftop(7) and the README)'
complete -c tcplife -s v -l verbose -d 'Say which attach path each program took, and other details, on stderr'
complete -c tcplife -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tcplife -s V -l version -d 'Print version'
