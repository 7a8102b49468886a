// filled in by the UI work
