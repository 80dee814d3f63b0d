complete -c statsnoop -s p -l pid -d 'Trace this process only' -r
complete -c statsnoop -s t -l tid -d 'Trace this thread only' -r
complete -c statsnoop -s u -l uid -d 'Trace this user id only' -r
complete -c statsnoop -s c -l comm -d 'Trace processes with this exact name (comm, at most 15 bytes)' -r
complete -c statsnoop -l cgroup -d 'Trace this cgroup v2 only: a directory, a path relative to the cgroup v2 mount, or a cgroup id' -r
complete -c statsnoop -s d -l duration -d 'Stop after this many seconds (fractions allowed)' -r
complete -c statsnoop -s x -l failed -d 'Show failed calls only'
complete -c statsnoop -s e -l extended-fields -d 'Show extended fields: syscall, decoded flags and mode'
complete -c statsnoop -s T -l timestamp -d 'Print a timestamp (local time) on each line'
complete -c statsnoop -s U -l print-uid -d 'Print the user id on each line'
complete -c statsnoop -l json -d 'Print JSON lines instead of a table (schema in ebpftop(7) and the README)'
complete -c statsnoop -s v -l verbose -d 'Say which attach path each program took, and other details, on stderr'
complete -c statsnoop -s h -l help -d 'Print help (see more with \'--help\')'
complete -c statsnoop -s V -l version -d 'Print version'
