-- The transitions are the other half of the audit trail (GET /api/v1/audit merges them with
-- `audit`): append-only like it. No UPDATE, no DELETE.
CREATE TRIGGER transizioni_no_update BEFORE UPDATE ON transizioni
BEGIN
    SELECT RAISE(ABORT, 'transizioni is append-only');
END;
CREATE TRIGGER transizioni_no_delete BEFORE DELETE ON transizioni
BEGIN
    SELECT RAISE(ABORT, 'transizioni is append-only');
END;
