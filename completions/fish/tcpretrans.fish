complete -c tcpretrans -s L -l localport -d 'Only connections with these local ports (comma-separated, at most 8)' -r
complete -c tcpretrans -s D -l remoteport -d 'Only connections with these remote ports (comma-separated, at most 8)' -r
complete -c tcpretrans -s p -l pid -d 'Trace this process only' -r
complete -c tcpretrans -s t -l tid -d 'Trace this thread only' -r
complete -c tcpretrans -s u -l uid -d 'Trace this user id only' -r
complete -c tcpretrans -l cgroup -d 'Trace this cgroup v2 only: a directory, a path relative to the cgroup v2 mount, or a cgroup id' -r
complete -c tcpretrans -l comm -d 'Trace processes with this exact name (comm, at most 15 bytes)' -r
complete -c tcpretrans -s d -l duration -d 'Stop after this many seconds (fractions allowed)' -r
complete -c tcpretrans -s c -l count -d 'Count retransmits per connection; print the counts at exit instead'
complete -c tcpretrans -s 4 -l ipv4 -d 'IPv4 connections only'
complete -c tcpretrans -s 6 -l ipv6 -d 'IPv6 connections only'
complete -c tcpretrans -s T -l timestamp -d 'Print a timestamp (local time) on each line'
complete -c tcpretrans -s U -l print-uid -d 'Print the user id on each line'
complete -c tcpretrans -l json -d 'Print JSON lines instead of a table (schema in ebpftop(7) and the README)'
complete -c tcpretrans -s v -l verbose -d 'Say which attach path each program took, and other details, on stderr'
complete -c tcpretrans -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tcpretrans -s V -l version -d 'Print version'
