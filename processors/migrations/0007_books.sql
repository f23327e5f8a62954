-- QuickBooks-valid books (issue 17): each company's bookkeeping settings, and the new lists.

-- What `company.settings_updated` tells qbd-sync about a company's books. The closing date
-- is checked before every write (pre-flight BEFORE_CLOSING_DATE); null means none.
CREATE TABLE book_settings (
    company_id   text PRIMARY KEY,
    closing_date date,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- The local copy of QuickBooks lists takes every list a reference pull can ask for.
ALTER TABLE qbd_objects DROP CONSTRAINT IF EXISTS qbd_objects_list_check;
ALTER TABLE qbd_objects ADD CONSTRAINT qbd_objects_list_check CHECK (list IN
    ('customers', 'vendors', 'items', 'accounts', 'classes', 'terms', 'sales_tax_codes',
     'sales_tax_items', 'payment_methods', 'date_driven_terms', 'other_charge_items',
     'discount_items', 'invoice_status'));
