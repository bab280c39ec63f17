"""The names of the files in a run folder and in a sweep folder, said once.

A run folder holds :data:`TIMESERIES`, :data:`PLATFORMS`, :data:`EVENTS`,
:data:`FIGURE`, with several jurisdictions :data:`JURISDICTIONS`, and, written last
as its completion mark, :data:`SUMMARY` (or :data:`STATUS` if the run failed). A sweep
folder holds one run folder per job, plus :data:`SWEEP` (job count and start time) and,
for a sampling design, :data:`DESIGN`; a calibration adds :data:`CALIBRATION`,
:data:`TRIALS`, :data:`STUDY` and :data:`FAN_CHART`.
"""

TIMESERIES = "timeseries.parquet"
PLATFORMS = "platforms.parquet"
JURISDICTIONS = "jurisdictions.parquet"  # one row per tick and jurisdiction, when declared
EVENTS = "events.jsonl"
FIGURE = "indicators.png"
SUMMARY = "summary.json"
STATUS = "status.json"

SWEEP = "sweep.json"
DESIGN = "design.json"

CALIBRATION = "calibration.json"
TRIALS = "trials.parquet"
STUDY = "study.db"
FAN_CHART = "calibration.png"
