complete -c oomkill -s d -l duration -d 'Stop after this many seconds (fractions allowed)' -r
complete -c oomkill -l json -d 'Print JSON lines instead of text'
complete -c oomkill -s v -l verbose -d 'Say which attach path each program took, and other details, on stderr'
complete -c oomkill -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oomkill -s V -l version -d 'Print version'
