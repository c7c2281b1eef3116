-- SQLite checks CHECK (x IN ('a', 'b', 'c')) by building a temporary B-tree of the list for
-- every row it writes: a B-tree opened, a page zeroed and the values inserted, then all of it
-- freed. A list of two or fewer, or a chain of x = 'a' OR x = 'b', is compared in place. Writing a
-- payment checked three such lists, and each ledger transfer, card-key sale and capture one or
-- two: about a fifth of the writer's instructions. The lists below become OR chains that accept
-- exactly the same values (NULL passes both, as before).
--
-- SQLite cannot alter a CHECK constraint. Its documented way to change one without rebuilding
-- the table (https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema
-- Changes") is to edit the table's CREATE statement in sqlite_master with writable_schema on;
-- every stored row already satisfies the new constraint, because it accepts the same values.
-- The throwaway table bumps the schema cookie, so other connections re-read the schema, and
-- writable_schema = RESET makes this one re-read it too. A connection in SQLite's defensive mode
-- may not edit sqlite_master, and the migration then fails without changing anything; kameng does
-- not turn that mode on. A PostgreSQL store has no such cost and nothing to do here.
PRAGMA writable_schema = ON;

UPDATE sqlite_master SET sql = replace(sql,
    'CHECK (role IN (''admin'', ''agent'', ''seller''))',
    'CHECK (role = ''admin'' OR role = ''agent'' OR role = ''seller'')')
    WHERE type = 'table' AND name = 'api_keys';
UPDATE sqlite_master SET sql = replace(sql,
    'CHECK (kind IN (''card_key'', ''direct_topup'', ''account''))',
    'CHECK (kind = ''card_key'' OR kind = ''direct_topup'' OR kind = ''account'')')
    WHERE type = 'table' AND name = 'products';
UPDATE sqlite_master SET sql = replace(sql,
    'CHECK (status IN (''available'', ''reserved'', ''delivered'', ''void''))',
    'CHECK (status = ''available'' OR status = ''reserved'' OR status = ''delivered'' OR status = ''void'')')
    WHERE type = 'table' AND name = 'card_keys';
UPDATE sqlite_master SET sql = replace(sql,
    'CHECK (method IN (''alipay'', ''wechat'', ''bank_card'', ''balance''))',
    'CHECK (method = ''alipay'' OR method = ''wechat'' OR method = ''bank_card'' OR method = ''balance'')')
    WHERE type = 'table' AND name = 'payments';
UPDATE sqlite_master SET sql = replace(sql,
    'CHECK (status IN (''requires_payment'', ''succeeded'', ''failed'', ''canceled''))',
    'CHECK (status = ''requires_payment'' OR status = ''succeeded'' OR status = ''failed'' OR status = ''canceled'')')
    WHERE type = 'table' AND name = 'payments';
UPDATE sqlite_master SET sql = replace(sql,
    'CHECK (disposition IN (''applied'', ''duplicate'', ''late'', ''undeliverable''))',
    'CHECK (disposition = ''applied'' OR disposition = ''duplicate'' OR disposition = ''late'' OR disposition = ''undeliverable'')')
    WHERE type = 'table' AND name = 'payments';
UPDATE sqlite_master SET sql = replace(sql,
    'CHECK (status IN (''queued'', ''submitted'', ''succeeded'', ''failed'', ''wrong_region''))',
    'CHECK (status = ''queued'' OR status = ''submitted'' OR status = ''succeeded'' OR status = ''failed'' OR status = ''wrong_region'')')
    WHERE type = 'table' AND name = 'topups';
UPDATE sqlite_master SET sql = replace(sql,
    'CHECK (kind IN (''posted'', ''pending'', ''post_pending'', ''void_pending''))',
    'CHECK (kind = ''posted'' OR kind = ''pending'' OR kind = ''post_pending'' OR kind = ''void_pending'')')
    WHERE type = 'table' AND name = 'ledger_transfers';
UPDATE sqlite_master SET sql = replace(sql,
    'CHECK (pending_state IN (''open'', ''posted'', ''voided''))',
    'CHECK (pending_state = ''open'' OR pending_state = ''posted'' OR pending_state = ''voided'')')
    WHERE type = 'table' AND name = 'ledger_transfers';
UPDATE sqlite_master SET sql = replace(sql,
    'CHECK (outcome IN (''succeeded'', ''failed'', ''wrong_region'', ''stall''))',
    'CHECK (outcome = ''succeeded'' OR outcome = ''failed'' OR outcome = ''wrong_region'' OR outcome = ''stall'')')
    WHERE type = 'table' AND name = 'sandbox_topups';
UPDATE sqlite_master SET sql = replace(sql,
    'CHECK (status IN (''waiting'', ''open'', ''awaiting_buyer'', ''decided'',
                                           ''appealed'', ''closed''))',
    'CHECK (status = ''waiting'' OR status = ''open'' OR status = ''awaiting_buyer'' OR status = ''decided'' OR status = ''appealed'' OR status = ''closed'')')
    WHERE type = 'table' AND name = 'cases';
UPDATE sqlite_master SET sql = replace(sql,
    'CHECK (status IN (''pending'', ''succeeded'', ''failed'', ''requires_action''))',
    'CHECK (status = ''pending'' OR status = ''succeeded'' OR status = ''failed'' OR status = ''requires_action'')')
    WHERE type = 'table' AND name = 'refunds';
UPDATE sqlite_master SET sql = replace(sql,
    'CHECK (outcome IN (''succeeded'', ''failed'', ''requires_action''))',
    'CHECK (outcome = ''succeeded'' OR outcome = ''failed'' OR outcome = ''requires_action'')')
    WHERE type = 'table' AND name = 'sandbox_refunds';
CREATE TABLE schema_cookie_bump (x INTEGER);
DROP TABLE schema_cookie_bump;
PRAGMA writable_schema = RESET;
