complete -c mountsnoop -s p -l pid -d 'Trace this process only' -r
complete -c mountsnoop -s t -l tid -d 'Trace this thread only' -r
complete -c mountsnoop -s u -l uid -d 'Trace this user id only' -r
complete -c mountsnoop -s c -l comm -d 'Trace processes with this exact name (comm, at most 15 bytes)' -r
complete -c mountsnoop -l cgroup -d 'Trace this cgroup v2 only: a directory, a path relative to the cgroup v2 mount, or a cgroup id' -r
complete -c mountsnoop -s d -l duration -d 'Stop after this many seconds (fractions allowed)' -r
complete -c mountsnoop -s x -l failed -d 'Show failed calls only'
complete -c mountsnoop -s T -l timestamp -d 'Print a timestamp (local time) on each line'
complete -c mountsnoop -s U -l print-uid -d 'Print the user id on each line'
complete -c mountsnoop -l json -d 'Print JSON lines instead of a table (schema in ebpftop(7) and the README)'
complete -c mountsnoop -s v -l verbose -d 'Say which attach path each program took, and other details, on stderr'
complete -c mountsnoop -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mountsnoop -s V -l version -d 'Print version'
