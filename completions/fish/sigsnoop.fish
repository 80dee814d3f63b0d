complete -c sigsnoop -s s -l signal -d 'Trace only this signal: a number or a name (KILL, SIGUSR1, RTMIN+2); repeat or give a comma list for several' -r
complete -c sigsnoop -s p -l pid -d 'Trace this process only' -r
complete -c sigsnoop -s t -l tid -d 'Trace this thread only' -r
complete -c sigsnoop -s u -l uid -d 'Trace this user id only' -r
complete -c sigsnoop -s c -l comm -d 'Trace processes with this exact name (comm, at most 15 bytes)' -r
complete -c sigsnoop -l cgroup -d 'Trace this cgroup v2 only: a directory, a path relative to the cgroup v2 mount, or a cgroup id' -r
complete -c sigsnoop -s d -l duration -d 'Stop after this many seconds (fractions allowed)' -r
complete -c sigsnoop -s x -l failed -d 'Show only signals that failed: not delivered, or with -k a kill(2) that returned an error'
complete -c sigsnoop -s k -l kill -d 'Trace kill(2) calls only, with their result (sees kills that fail)'
complete -c sigsnoop -s T -l timestamp -d 'Print a timestamp (local time) on each line'
complete -c sigsnoop -s U -l print-uid -d 'Print the user id on each line'
complete -c sigsnoop -l json -d 'Print JSON lines instead of a table (schema in ebpftop(7) and the README)'
complete -c sigsnoop -s v -l verbose -d 'Say which attach path each program took, and other details, on stderr'
complete -c sigsnoop -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sigsnoop -s V -l version -d 'Print version'
