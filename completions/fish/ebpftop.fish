complete -c ebpftop -s i -l interval -d 'Refresh every SECS seconds; rates are per second over it. With --replay, how often the next recorded interval is shown (rates stay per second of the recording)' -r
complete -c ebpftop -l record -d 'Write the event stream to FILE as JSON lines (the tools\' --json records) while the dashboard runs' -r -F
complete -c ebpftop -l replay -d 'Show a capture made with --record instead of tracing (no root needed)' -r -F
complete -c ebpftop -l view -d 'The view to open with' -r -f -a "processes\t''
syscalls\t''
files\t''
network\t''
scheduler\t''
bpf\t''"
complete -c ebpftop -s d -l duration -d 'Stop after SECS seconds' -r
complete -c ebpftop -l once -d 'Print a text snapshot of the view after one interval and exit (no terminal needed); with --replay, after the whole capture'
complete -c ebpftop -s v -l verbose -d 'Say which attach path each program took, and why a view is missing'
complete -c ebpftop -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ebpftop -s V -l version -d 'Print version'
