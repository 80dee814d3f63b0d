complete -c cpudist -s p -l pid -d 'Trace this process only' -r
complete -c cpudist -s t -l tid -d 'Trace this thread only' -r
complete -c cpudist -s u -l uid -d 'Trace this user id only' -r
complete -c cpudist -s c -l comm -d 'Trace processes with this exact name (comm, at most 15 bytes)' -r
complete -c cpudist -l cgroup -d 'Trace this cgroup v2 only: a directory, a path relative to the cgroup v2 mount, or a cgroup id' -r
complete -c cpudist -s i -l interval -d 'Print and reset every SECS seconds (fractions allowed), instead of once at the end' -r
complete -c cpudist -l count -d 'Stop after this many intervals' -r
complete -c cpudist -s d -l duration -d 'Stop after this many seconds (fractions allowed)' -r
complete -c cpudist -s O -l offcpu -d 'Time spent off the CPU instead of on it'
complete -c cpudist -s P -l pids -d 'A histogram per process'
complete -c cpudist -s L -l tids -d 'A histogram per thread'
complete -c cpudist -s m -l milliseconds -d 'Histograms in milliseconds instead of microseconds'
complete -c cpudist -s T -l timestamp -d 'Head each interval\'s table with the local time, [HH:MM:SS]'
complete -c cpudist -l json -d 'Print JSON lines instead of tables: one object per row per interval, then an "interval" object with the losses'
complete -c cpudist -s v -l verbose -d 'Say which attach path each program took, and other details, on stderr'
complete -c cpudist -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cpudist -s V -l version -d 'Print version'
