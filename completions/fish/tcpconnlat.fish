complete -c tcpconnlat -s m -l min -d 'Only connects slower than this many milliseconds (fractions allowed)' -r
complete -c tcpconnlat -s P -l port -d 'Only connects to these destination ports (comma-separated, at most 8)' -r
complete -c tcpconnlat -s p -l pid -d 'Trace this process only' -r
complete -c tcpconnlat -s t -l tid -d 'Trace this thread only' -r
complete -c tcpconnlat -s u -l uid -d 'Trace this user id only' -r
complete -c tcpconnlat -s c -l comm -d 'Trace processes with this exact name (comm, at most 15 bytes)' -r
complete -c tcpconnlat -l cgroup -d 'Trace this cgroup v2 only: a directory, a path relative to the cgroup v2 mount, or a cgroup id' -r
complete -c tcpconnlat -s d -l duration -d 'Stop after this many seconds (fractions allowed)' -r
complete -c tcpconnlat -s 4 -l ipv4 -d 'IPv4 connections only'
complete -c tcpconnlat -s 6 -l ipv6 -d 'IPv6 connections only'
complete -c tcpconnlat -s T -l timestamp -d 'Print a timestamp (local time) on each line'
complete -c tcpconnlat -s U -l print-uid -d 'Print the user id on each line'
complete -c tcpconnlat -l json -d 'Print JSON lines instead of a table (schema in ebpftop(7) and the README)'
complete -c tcpconnlat -s v -l verbose -d 'Say which attach path each program took, and other details, on stderr'
complete -c tcpconnlat -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tcpconnlat -s V -l version -d 'Print version'
