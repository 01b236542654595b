"""Verdicts, the certification report and the evidence bundle."""
