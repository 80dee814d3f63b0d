complete -c gethostlatency -s p -l pid -d 'Trace this process only' -r
complete -c gethostlatency -s t -l tid -d 'Trace this thread only' -r
complete -c gethostlatency -s u -l uid -d 'Trace this user id only' -r
complete -c gethostlatency -s c -l comm -d 'Trace processes with this exact name (comm, at most 15 bytes)' -r
complete -c gethostlatency -l cgroup -d 'Trace this cgroup v2 only: a directory, a path relative to the cgroup v2 mount, or a cgroup id' -r
complete -c gethostlatency -s d -l duration -d 'Stop after this many seconds (fractions allowed)' -r
complete -c gethostlatency -s T -l timestamp -d 'Print a timestamp (local time) on each line'
complete -c gethostlatency -s U -l print-uid -d 'Print the user id on each line'
complete -c gethostlatency -l json -d 'Print JSON lines instead of a table (schema in ebpftop(7) and the README)'
complete -c gethostlatency -s v -l verbose -d 'Say which attach path each program took, and other details, on stderr'
complete -c gethostlatency -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gethostlatency -s V -l version -d 'Print version'
