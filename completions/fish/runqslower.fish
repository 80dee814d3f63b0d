complete -c runqslower -s p -l pid -d 'Trace this process only' -r
complete -c runqslower -s t -l tid -d 'Trace this thread only' -r
complete -c runqslower -s d -l duration -d 'Stop after this many seconds (fractions allowed)' -r
complete -c runqslower -s P -l previous -d 'Show the previous task on the CPU (comm and tid) in the table'
complete -c runqslower -s T -l timestamp -d 'Print a timestamp (local time) on each line'
complete -c runqslower -s U -l print-uid -d 'Print the user id on each line'
complete -c runqslower -l json -d 'Print JSON lines instead of a table (schema in ebpftop(7) and the README)'
complete -c runqslower -s v -l verbose -d 'Say which attach path each program took, and other details, on stderr'
complete -c runqslower -s h -l help -d 'Print help (see more with \'--help\')'
complete -c runqslower -s V -l version -d 'Print version'
