complete -c hardirqs -s i -l interval -d 'Print and reset every SECS seconds (fractions allowed), instead of once at the end' -r
complete -c hardirqs -l count -d 'Stop after this many intervals' -r
complete -c hardirqs -s d -l duration -d 'Stop after this many seconds (fractions allowed)' -r
complete -c hardirqs -l dist -d 'Show a log2 histogram of handler times per IRQ (bcc\'s -d; -d is --duration here)'
complete -c hardirqs -s C -l counts -d 'Show how many times each handler ran instead of its time (bcc\'s -C/--count; --count is the number of intervals here)'
complete -c hardirqs -s N -l nanoseconds -d 'Times in nanoseconds instead of microseconds'
complete -c hardirqs -s T -l timestamp -d 'Head each interval\'s table with the local time, [HH:MM:SS]'
complete -c hardirqs -l json -d 'Print JSON lines instead of tables: one object per row per interval, then an "interval" object with the losses'
complete -c hardirqs -s v -l verbose -d 'Say which attach path each program took, and other details, on stderr'
complete -c hardirqs -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hardirqs -s V -l version -d 'Print version'
