"""The online meldformulier: a web adapter over the same use cases as gRPC (handlers.py).

It parses form fields into domain objects, calls the handlers (which apply the domain rules), and
maps a domain ValidationError's field path to the form field with a Dutch message. No rule lives here."""
