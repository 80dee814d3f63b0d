complete -c syslat -s s -l syscalls -d 'Time only these syscalls (names as syscount -l lists them)' -r
complete -c syslat -s p -l pid -d 'Trace this process only' -r
complete -c syslat -s t -l tid -d 'Trace this thread only' -r
complete -c syslat -s u -l uid -d 'Trace this user id only' -r
complete -c syslat -s c -l comm -d 'Trace processes with this exact name (comm, at most 15 bytes)' -r
complete -c syslat -l cgroup -d 'Trace this cgroup v2 only: a directory, a path relative to the cgroup v2 mount, or a cgroup id' -r
complete -c syslat -s i -l interval -d 'Print and reset every SECS seconds (fractions allowed), instead of once at the end' -r
complete -c syslat -l count -d 'Stop after this many intervals' -r
complete -c syslat -s d -l duration -d 'Stop after this many seconds (fractions allowed)' -r
complete -c syslat -s P -l process -d 'A histogram per process and syscall instead of per syscall'
complete -c syslat -s m -l milliseconds -d 'Histograms in milliseconds instead of microseconds'
complete -c syslat -s T -l timestamp -d 'Head each interval\'s table with the local time, [HH:MM:SS]'
complete -c syslat -l json -d 'Print JSON lines instead of tables: one object per row per interval, then an "interval" object with the losses'
complete -c syslat -s v -l verbose -d 'Say which attach path each program took, and other details, on stderr'
complete -c syslat -s h -l help -d 'Print help (see more with \'--help\')'
complete -c syslat -s V -l version -d 'Print version'
