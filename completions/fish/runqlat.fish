complete -c runqlat -l top -d 'With --preemptors: how many preemptors to list per victim' -r
complete -c runqlat -s p -l pid -d 'Trace this process only' -r
complete -c runqlat -l cgroup -d 'Trace this cgroup v2 only: a directory, a path relative to the cgroup v2 mount, or a cgroup id' -r
complete -c runqlat -s i -l interval -d 'Print and reset every SECS seconds (fractions allowed), instead of once at the end' -r
complete -c runqlat -l count -d 'Stop after this many intervals' -r
complete -c runqlat -s d -l duration -d 'Stop after this many seconds (fractions allowed)' -r
complete -c runqlat -s m -l milliseconds -d 'Histograms in milliseconds instead of microseconds'
complete -c runqlat -s P -l pids -d 'A histogram per process'
complete -c runqlat -s L -l tids -d 'A histogram per thread'
complete -c runqlat -s C -l cgroups -d 'A histogram per cgroup (v2)'
complete -c runqlat -l pidnss -d 'A histogram per pid namespace'
complete -c runqlat -l preemptors -d 'Instead of histograms: for each cgroup (each process with -P), its total wait and which cgroups (processes) held the CPU meanwhile'
complete -c runqlat -s T -l timestamp -d 'Head each interval\'s table with the local time, [HH:MM:SS]'
complete -c runqlat -l json -d 'Print JSON lines instead of tables: one object per row per interval, then an "interval" object with the losses'
complete -c runqlat -s v -l verbose -d 'Say which attach path each program took, and other details, on stderr'
complete -c runqlat -s h -l help -d 'Print help (see more with \'--help\')'
complete -c runqlat -s V -l version -d 'Print version'
