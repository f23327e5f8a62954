"""One valid example of every inbound event, for docs, demos and tests of integrations."""

from __future__ import annotations

import copy
from typing import Any, Final

from schemas.names import EventType

__all__ = ["EXAMPLE_DATA", "example_event"]

_LINE: Final = {
    "item_id": "item_consulting",
    "quantity": 2,
    "rate": "62.50",
    "amount": "125.00",
    "description": "Consulting, November",
}

EXAMPLE_DATA: Final[dict[EventType, dict[str, Any]]] = {
    EventType.COMPANY_CONNECT_REQUESTED: {
        "company_name": "Acme Plumbing LLC",
        "email": "owner@acme-plumbing.example",
    },
    EventType.MAPPING_SET: {
        "object_type": "account",
        "app_id": "acct_sales",
        "qbd_id": "80000012-1234567890",
    },
    EventType.CUSTOMER_UPSERTED: {
        "customer_id": "cus_1001",
        "name": "Jane Doe",
        "company_name": "Doe Household",
        "email": "jane@example.com",
        "phone": "+1 555 0100",
        "billing_address": {
            "line1": "1 Main St",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62701",
            "country": "US",
        },
    },
    EventType.VENDOR_UPSERTED: {
        "vendor_id": "ven_77",
        "name": "Pipe Supply Co",
        "email": "billing@pipesupply.example",
        "address": {"line1": "9 Industrial Way", "city": "Peoria", "state": "IL"},
    },
    EventType.ITEM_UPSERTED: {
        "item_id": "item_consulting",
        "name": "Consulting",
        "kind": "service",
        "price": "62.50",
        "income_account_id": "acct_sales",
        "description": "Hourly consulting",
    },
    EventType.INVOICE_CREATED: {
        "invoice_id": "inv_5001",
        "customer_id": "cus_1001",
        "transaction_date": "2026-11-24",
        "due_date": "2026-12-24",
        "ref_number": "INV-5001",
        "terms_id": "terms_net30",
        "memo": "Thank you for your business",
        "lines": [_LINE],
    },
    EventType.PAYMENT_RECEIVED: {
        "payment_id": "pay_9001",
        "customer_id": "cus_1001",
        "transaction_date": "2026-11-30",
        "total_amount": "125.00",
        "applied_to": [{"invoice_id": "inv_5001", "amount": "125.00"}],
        "payment_method_id": "pm_card",
        "deposit_account_id": "acct_undeposited",
        "ref_number": "CH-4242",
    },
    EventType.BILL_CREATED: {
        "bill_id": "bill_301",
        "vendor_id": "ven_77",
        "transaction_date": "2026-11-20",
        "due_date": "2026-12-20",
        "ref_number": "PS-88812",
        "expense_lines": [{"account_id": "acct_supplies", "amount": "48.10", "memo": "Fittings"}],
        "item_lines": [{"item_id": "item_pipe", "quantity": 10, "cost": "3.25"}],
    },
    EventType.SALES_RECEIPT_CREATED: {
        "sales_receipt_id": "sr_12",
        "customer_id": "cus_1001",
        "transaction_date": "2026-11-25",
        "lines": [_LINE],
        "payment_method_id": "pm_cash",
        "deposit_account_id": "acct_undeposited",
        "ref_number": "SR-12",
    },
    EventType.PURCHASE_ORDER_CREATED: {
        "purchase_order_id": "po_44",
        "vendor_id": "ven_77",
        "transaction_date": "2026-11-21",
        "expected_date": "2026-12-01",
        "ref_number": "PO-44",
        "lines": [{"item_id": "item_pipe", "quantity": 100, "rate": "3.25", "amount": "325.00"}],
    },
    EventType.SYNC_REQUESTED: {},
    EventType.REFERENCE_PULL_REQUESTED: {"object_types": ["customers", "items", "accounts"]},
    EventType.INVOICE_UPDATED: {
        "invoice_id": "inv_5001",
        "due_date": "2027-01-08",
        "memo": "Due date moved at the customer's request",
    },
    EventType.SALES_RECEIPT_UPDATED: {
        "sales_receipt_id": "sr_12",
        "lines": [{**_LINE, "quantity": 3, "amount": "187.50"}],
    },
    EventType.BILL_UPDATED: {
        "bill_id": "bill_301",
        "ref_number": "PS-88812-A",
        "item_lines": [{"item_id": "item_pipe", "quantity": 12, "cost": "3.25"}],
    },
    EventType.PURCHASE_ORDER_UPDATED: {
        "purchase_order_id": "po_44",
        "expected_date": "2026-12-05",
    },
    EventType.CREDIT_MEMO_UPDATED: {
        "credit_memo_id": "cm_7",
        "memo": "Refund for one unused hour",
    },
    EventType.PAYMENT_UPDATED: {
        "payment_id": "pay_9001",
        "total_amount": "60.00",
        "applied_to": [
            {
                "invoice_id": "inv_5001",
                "amount": "60.00",
                "discount_amount": "2.50",
                "credits": [{"credit_memo_id": "cm_7", "amount": "62.50"}],
            }
        ],
        "discount_account_id": "acct_discounts",
    },
    EventType.INVOICE_VOIDED: {"invoice_id": "inv_5001", "reason": "Issued twice by mistake"},
    EventType.SALES_RECEIPT_VOIDED: {"sales_receipt_id": "sr_12", "reason": "Card charge reversed"},
    EventType.BILL_VOIDED: {"bill_id": "bill_301"},
    EventType.CREDIT_MEMO_VOIDED: {"credit_memo_id": "cm_7", "reason": "Customer kept the goods"},
    EventType.INVOICE_DELETED: {"invoice_id": "inv_5001"},
    EventType.SALES_RECEIPT_DELETED: {"sales_receipt_id": "sr_12"},
    EventType.BILL_DELETED: {"bill_id": "bill_301"},
    EventType.PURCHASE_ORDER_DELETED: {"purchase_order_id": "po_44"},
    EventType.PAYMENT_DELETED: {"payment_id": "pay_9001"},
    EventType.CREDIT_MEMO_DELETED: {"credit_memo_id": "cm_7"},
    EventType.BILL_PAYMENT_DELETED: {"bill_payment_id": "bp_55"},
    EventType.VENDOR_CREDIT_DELETED: {"vendor_credit_id": "vc_9"},
    EventType.CREDIT_MEMO_CREATED: {
        "credit_memo_id": "cm_7",
        "customer_id": "cus_1001",
        "transaction_date": "2026-11-28",
        "ref_number": "CM-7",
        "memo": "One hour not used",
        "sales_tax_item_id": "tax_il_state",
        "lines": [
            {
                "item_id": "item_consulting",
                "quantity": 1,
                "rate": "62.50",
                "amount": "62.50",
                "sales_tax_code_id": "tax_non",
            }
        ],
    },
    EventType.BILL_PAYMENT_CREATED: {
        "bill_payment_id": "bp_55",
        "vendor_id": "ven_77",
        "transaction_date": "2026-12-18",
        "method": "check",
        "account_id": "acct_checking",
        "applied_to": [{"bill_id": "bill_301", "amount": "80.60"}],
        "ref_number": "1042",
    },
    EventType.VENDOR_CREDIT_CREATED: {
        "vendor_credit_id": "vc_9",
        "vendor_id": "ven_77",
        "transaction_date": "2026-11-26",
        "ref_number": "RMA-3391",
        "item_lines": [{"item_id": "item_pipe", "quantity": 2, "cost": "3.25"}],
    },
    EventType.CLASS_UPSERTED: {"class_id": "cls_residential", "name": "Residential"},
    EventType.TERMS_UPSERTED: {
        "terms_id": "terms_net30",
        "name": "2% 10 Net 30",
        "due_days": 30,
        "discount_days": 10,
        "discount_percent": "2",
    },
    EventType.ACCOUNT_UPSERTED: {
        "account_id": "acct_sales",
        "name": "Consulting Income",
        "account_type": "income",
        "number": "4010",
    },
    EventType.PAYMENT_METHOD_UPSERTED: {
        "payment_method_id": "pm_card",
        "name": "Visa",
        "kind": "visa",
    },
    EventType.COMPANY_SETTINGS_UPDATED: {"closing_date": "2026-10-31"},
}
"""A realistic, valid `data` object for every inbound event type."""


def example_event(
    event_type: EventType, *, companyid: str = "acct_48291", id: str = "evt_9f1c2a"
) -> dict[str, Any]:
    """A complete CloudEvent (as a JSON-ready dict) of `event_type`, shaped as CONTRACT.md."""
    return {
        "specversion": "1.0",
        "id": id,
        "type": event_type.value,
        "source": "billing-service",
        "time": "2026-11-24T10:00:00Z",
        "companyid": companyid,
        "data": copy.deepcopy(EXAMPLE_DATA[event_type]),
    }
