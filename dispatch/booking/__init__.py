"""Booking: offer a new visit the times the plan can really keep, and book one.

Modules (arrows: who calls whom)::

    slots    the candidate times of a shape, graded and sorted; why none fit
      -> day     a day plan compiled for booking: every promise a hard bound; ``fits``
                 and ``timed``
           -> solver.insertion   the one insertion check and the one timing of a chosen
                                 insertion (by the solver's own model), for slots and booking
      -> grade   the documented grading of a slot
    book     the next plan version with the visit in its slot, made as a new_visit batch
      -> day (the booked route timed as the slot showed it)
    schema   the wire schemas of slot requests, slots and bookings

The desk's use cases over the store (``dispatch.desk.book``) call ``slots.offer`` and
``book.book_into``; nothing here reads or writes the store.
"""

from dispatch.booking.book import Booked, SlotGoneError, book_into
from dispatch.booking.slots import DayPlan, Slot, SlotAsk, SlotsAnswer, offer

__all__ = [
    "Booked",
    "DayPlan",
    "Slot",
    "SlotAsk",
    "SlotGoneError",
    "SlotsAnswer",
    "book_into",
    "offer",
]
