"""Cases: reports from victims, their workflow and timeline, withdrawal."""
