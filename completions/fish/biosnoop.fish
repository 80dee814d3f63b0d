complete -c biosnoop -l disk -d 'Trace this disk only (sda, nvme0n1, loop3; a whole disk, not a partition)' -r
complete -c biosnoop -s p -l pid -d 'Trace this process only' -r
complete -c biosnoop -s t -l tid -d 'Trace this thread only' -r
complete -c biosnoop -s u -l uid -d 'Trace this user id only' -r
complete -c biosnoop -s c -l comm -d 'Trace processes with this exact name (comm, at most 15 bytes)' -r
complete -c biosnoop -l cgroup -d 'Trace this cgroup v2 only: a directory, a path relative to the cgroup v2 mount, or a cgroup id' -r
complete -c biosnoop -s d -l duration -d 'Stop after this many seconds (fractions allowed)' -r
complete -c biosnoop -s Q -l queue -d 'Show the time each request spent in the OS queue (QUE column)'
complete -c biosnoop -s T -l timestamp -d 'Print a timestamp (local time) on each line'
complete -c biosnoop -s U -l print-uid -d 'Print the user id on each line'
complete -c biosnoop -l json -d 'Print JSON lines instead of a table (schema in ebpftop(7) and the README)'
complete -c biosnoop -s v -l verbose -d 'Say which attach path each program took, and other details, on stderr'
complete -c biosnoop -s h -l help -d 'Print help (see more with \'--help\')'
complete -c biosnoop -s V -l version -d 'Print version'
