-- The transitions are the other half of the audit trail (GET /api/v1/audit merges them with
-- `audit`): append-only like it. No UPDATE, no DELETE.
CREATE FUNCTION transizioni_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'transizioni is append-only';
END;
$$;
CREATE TRIGGER transizioni_no_change BEFORE UPDATE OR DELETE ON transizioni
    FOR EACH STATEMENT EXECUTE FUNCTION transizioni_append_only();
