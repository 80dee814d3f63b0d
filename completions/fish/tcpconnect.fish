complete -c tcpconnect -s P -l port -d 'Only connects to these destination ports (comma-separated, at most 8)' -r
complete -c tcpconnect -s p -l pid -d 'Trace this process only' -r
complete -c tcpconnect -s t -l tid -d 'Trace this thread only' -r
complete -c tcpconnect -s u -l uid -d 'Trace this user id only' -r
complete -c tcpconnect -l cgroup -d 'Trace this cgroup v2 only: a directory, a path relative to the cgroup v2 mount, or a cgroup id' -r
complete -c tcpconnect -l comm -d 'Trace processes with this exact name (comm, at most 15 bytes)' -r
complete -c tcpconnect -s d -l duration -d 'Stop after this many seconds (fractions allowed)' -r
complete -c tcpconnect -s c -l count -d 'Count connects per source address, destination and port; print the counts at exit instead of each connect'
complete -c tcpconnect -s 4 -l ipv4 -d 'IPv4 connections only'
complete -c tcpconnect -s 6 -l ipv6 -d 'IPv6 connections only'
complete -c tcpconnect -s T -l timestamp -d 'Print a timestamp (local time) on each line'
complete -c tcpconnect -s U -l print-uid -d 'Print the user id on each line'
complete -c tcpconnect -l json -d 'Print JSON lines instead of a table (schema in ebpftop(7) and the README)'
complete -c tcpconnect -s v -l verbose -d 'Say which attach path each program took, and other details, on stderr'
complete -c tcpconnect -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tcpconnect -s V -l version -d 'Print version'
