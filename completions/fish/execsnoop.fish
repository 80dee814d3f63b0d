complete -c execsnoop -s n -l name -d 'Only show execs whose command name matches this regular expression' -r
complete -c execsnoop -s l -l line -d 'Only show execs whose arguments, joined by spaces, match this regular expression' -r
complete -c execsnoop -l max-args -d 'Copy at most this many arguments; "..." marks the rest' -r
complete -c execsnoop -l max-bytes -d 'Copy at most this many bytes of arguments (NULs counted); "..." marks the rest' -r
complete -c execsnoop -s p -l pid -d 'Trace this process only' -r
complete -c execsnoop -s t -l tid -d 'Trace this thread only' -r
complete -c execsnoop -s u -l uid -d 'Trace this user id only' -r
complete -c execsnoop -s c -l comm -d 'Trace processes with this exact name (comm, at most 15 bytes)' -r
complete -c execsnoop -l cgroup -d 'Trace this cgroup v2 only: a directory, a path relative to the cgroup v2 mount, or a cgroup id' -r
complete -c execsnoop -s d -l duration -d 'Stop after this many seconds (fractions allowed)' -r
complete -c execsnoop -s x -l failed -d 'Show failed execs only'
complete -c execsnoop -s q -l quote -d 'Put "quotemarks" around each argument (table output)'
complete -c execsnoop -s T -l timestamp -d 'Print a timestamp (local time) on each line'
complete -c execsnoop -s U -l print-uid -d 'Print the user id on each line'
complete -c execsnoop -l json -d 'Print JSON lines instead of a table (schema in ebpftop(7) and the README)'
complete -c execsnoop -s v -l verbose -d 'Say which attach path each program took, and other details, on stderr'
complete -c execsnoop -s h -l help -d 'Print help (see more with \'--help\')'
complete -c execsnoop -s V -l version -d 'Print version'
