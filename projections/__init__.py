"""State rebuilt from events: pure reducers `(state, event) -> state`.

The state rules arrive with the state issue; `upcasting` already shapes what
they will see.
"""
