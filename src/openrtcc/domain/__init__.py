"""Pure rules of OpenRTCC: no web, database, video or ML library is imported here."""
