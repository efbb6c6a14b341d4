"""How far to trust a metric: its agreement with human labels (`harness calibrate`), shown beside it.

labels.py reads and validates label files; figures.py holds the statistics; run.py scores, saves and
logs a calibration; identity.py keys results by a metric's identity and answers the verdict, the report
and the gate with the latest figure for that exact identity.
"""

from harness.calibration.identity import calibration_dir, note, notes_for, sentence
from harness.calibration.labels import LabelSet, load_labels

__all__ = ["LabelSet", "calibration_dir", "load_labels", "note", "notes_for", "sentence"]
