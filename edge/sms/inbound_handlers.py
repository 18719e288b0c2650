"""The order in which features are offered an inbound SMS: the first to claim it answers.

Narrow claims first (a digit from an applicant with an open rating invitation, a renewal word
from a seller), the catch-all (a new 我有话说 item) last.
"""

from __future__ import annotations

from edge.feedback.sms_reply import claim_sms as feedback_item
from edge.market.sms_reply import claim_sms as market_renewal
from edge.ratings.sms_reply import claim_sms as rating_reply
from edge.sms.inbound import InboundHandler

INBOUND_HANDLERS: tuple[InboundHandler, ...] = (rating_reply, market_renewal, feedback_item)
