-- Why the applicant withdrew (one of states.WITHDRAW_REASONS, chosen on the confirmation page).
ALTER TABLE applications ADD COLUMN withdrawn_reason TEXT;
