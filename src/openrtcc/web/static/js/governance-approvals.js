// filled in by issue 6's work
