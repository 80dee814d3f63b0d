complete -c exitsnoop -s p -l pid -d 'Trace this process only' -r
complete -c exitsnoop -s u -l uid -d 'Trace this user id only' -r
complete -c exitsnoop -s c -l comm -d 'Trace processes with this exact name (comm, at most 15 bytes)' -r
complete -c exitsnoop -l cgroup -d 'Trace this cgroup v2 only: a directory, a path relative to the cgroup v2 mount, or a cgroup id' -r
complete -c exitsnoop -l tid -d 'Trace this thread only' -r
complete -c exitsnoop -s d -l duration -d 'Stop after this many seconds (fractions allowed)' -r
complete -c exitsnoop -s x -l failed -d 'Show only failed exits: a non-zero exit code or a terminating signal'
complete -c exitsnoop -s t -l threads -d 'Report every thread\'s exit, not only each process\'s'
complete -c exitsnoop -s T -l timestamp -d 'Print a timestamp (local time) on each line'
complete -c exitsnoop -s U -l print-uid -d 'Print the user id on each line'
complete -c exitsnoop -l json -d 'Print JSON lines instead of a table (schema in ebpftop(7) and the README)'
complete -c exitsnoop -s v -l verbose -d 'Say which attach path each program took, and other details, on stderr'
complete -c exitsnoop -s h -l help -d 'Print help (see more with \'--help\')'
complete -c exitsnoop -s V -l version -d 'Print version'
