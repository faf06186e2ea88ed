"""Verwijsindex risicojongeren (Jeugdwet 7.1): signals, client matching, expiry, archive, logbook."""
