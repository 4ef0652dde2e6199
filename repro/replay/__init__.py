"""``repro import`` and ``repro replay``: a failing production request, replayed in a sandbox
built from production's snapshot, with a verdict.

- the incident file (:mod:`.incident`) and the importers that write one from a Sentry event,
  a HAR, a curl command or an access-log line (:mod:`.importers`), credentials fingerprinted
  (:mod:`.credentials`)
- the options (:mod:`.options`) and the run (:mod:`.runner`): the sandbox (:mod:`.sandbox`,
  its database :mod:`.sandbox_db` and :mod:`.sandbox_dump`, the app's environment
  :mod:`.sandbox_env`, how the app reaches the database :mod:`.db_wiring`, repro's Sentry sink
  :mod:`.sentry_sink`), the request (:mod:`.request`), the evidence (stack traces of Python
  :mod:`.tracebacks`, Node.js, JVM and Ruby :mod:`.traces`; signs of a broken sandbox
  :mod:`.sandbox_faults`), the verdict (:mod:`.verdict`), how faithful the sandbox was
  (:mod:`.parity`), all gathered in :mod:`.outcome`
- the report, one renderer per format (:mod:`.renderers`), and the clean-up of what a killed
  run left (:mod:`.prune`)
"""
