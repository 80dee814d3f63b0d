complete -c syscount -s e -l errno -d 'Count only syscalls that failed with this errno (ENOENT or 2)' -r
complete -c syscount -l top -d 'Print only the top N syscalls (or processes) by count, or by time with -L' -r
complete -c syscount -s p -l pid -d 'Trace this process only' -r
complete -c syscount -s t -l tid -d 'Trace this thread only' -r
complete -c syscount -s u -l uid -d 'Trace this user id only' -r
complete -c syscount -s c -l comm -d 'Trace processes with this exact name (comm, at most 15 bytes)' -r
complete -c syscount -l cgroup -d 'Trace this cgroup v2 only: a directory, a path relative to the cgroup v2 mount, or a cgroup id' -r
complete -c syscount -s i -l interval -d 'Print and reset every SECS seconds (fractions allowed), instead of once at the end' -r
complete -c syscount -l count -d 'Stop after this many intervals' -r
complete -c syscount -s d -l duration -d 'Stop after this many seconds (fractions allowed)' -r
complete -c syscount -s L -l latency -d 'Also measure time spent in each syscall: total and average'
complete -c syscount -s P -l process -d 'Count per process instead of per syscall'
complete -c syscount -s x -l failures -d 'Count failed syscalls only'
complete -c syscount -s m -l milliseconds -d 'Show times in milliseconds instead of microseconds'
complete -c syscount -s l -l list -d 'List the syscalls this machine\'s table names, and exit'
complete -c syscount -s T -l timestamp -d 'Head each interval\'s table with the local time, [HH:MM:SS]'
complete -c syscount -l json -d 'Print JSON lines instead of tables: one object per row per interval, then an "interval" object with the losses'
complete -c syscount -s v -l verbose -d 'Say which attach path each program took, and other details, on stderr'
complete -c syscount -s h -l help -d 'Print help (see more with \'--help\')'
complete -c syscount -s V -l version -d 'Print version'
