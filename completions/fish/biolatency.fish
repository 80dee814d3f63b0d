complete -c biolatency -l disk -d 'Trace this disk only (sda, nvme0n1, loop3; a whole disk, not a partition)' -r
complete -c biolatency -s i -l interval -d 'Print and reset every SECS seconds (fractions allowed), instead of once at the end' -r
complete -c biolatency -l count -d 'Stop after this many intervals' -r
complete -c biolatency -s d -l duration -d 'Stop after this many seconds (fractions allowed)' -r
complete -c biolatency -s D -l disks -d 'A histogram per disk'
complete -c biolatency -s F -l flags -d 'A histogram per operation and flags (Read, Sync-Write, Flush, ...)'
complete -c biolatency -s Q -l queued -d 'Include the time in the OS queue: from insertion, not issue'
complete -c biolatency -s m -l milliseconds -d 'Histograms in milliseconds instead of microseconds'
complete -c biolatency -s T -l timestamp -d 'Head each interval\'s table with the local time, [HH:MM:SS]'
complete -c biolatency -l json -d 'Print JSON lines instead of tables: one object per row per interval, then an "interval" object with the losses'
complete -c biolatency -s v -l verbose -d 'Say which attach path each program took, and other details, on stderr'
complete -c biolatency -s h -l help -d 'Print help (see more with \'--help\')'
complete -c biolatency -s V -l version -d 'Print version'
