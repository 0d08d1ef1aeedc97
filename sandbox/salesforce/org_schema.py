"""The objects and fields of the sandbox org, as a fresh `Schema` per sandbox.

Standard objects carry the fields okrsync reads (docs/crm-apis.md §1.10); User also carries the
pre-provisioned write-back fields, and `OKR_Key_Result__c` is the custom object keyed by an
external id for per-key-result write-back.
"""

from __future__ import annotations

from typing import Any

from sandbox.salesforce.schema import FieldDef, ObjectDef, Schema

OKR_STATUSES = ("on_track", "at_risk", "off_track", "done")
STAGES = (
    "Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote",
    "Negotiation/Review", "Closed Won", "Closed Lost",
)  # fmt: skip
CURRENCIES = ("USD", "EUR", "GBP")
# StageName -> (IsClosed, IsWon, default Probability, default ForecastCategoryName), as in a default org.
STAGE_DEFAULTS: dict[str, tuple[bool, bool, int, str]] = {
    "Prospecting": (False, False, 10, "Pipeline"),
    "Qualification": (False, False, 10, "Pipeline"),
    "Needs Analysis": (False, False, 20, "Pipeline"),
    "Proposal/Price Quote": (False, False, 75, "Best Case"),
    "Negotiation/Review": (False, False, 90, "Commit"),
    "Closed Won": (True, True, 100, "Closed"),
    "Closed Lost": (True, False, 0, "Omitted"),
}
READ_ONLY: dict[str, Any] = {"updateable": False, "createable": False}


def build_schema(*, dated_rates: bool = True) -> Schema:
    """A new, independent schema of the sandbox org: multi-currency, with DatedConversionRate
    only when Advanced Currency Management is on (`dated_rates`), as in a real org."""
    objects = [_user(), _account(), _record_type(), _opportunity(), _task(), _okr_key_result()]
    objects += [_organization(), _currency_type(), *([_dated_conversion_rate()] if dated_rates else [])]
    objects += [_forecasting_type(), _forecasting_quota(), _lead()]
    return Schema(objects)


def _object(name: str, label: str, plural: str, prefix: str, fields: list[FieldDef]) -> ObjectDef:
    definition = ObjectDef(name=name, label=label, label_plural=plural, key_prefix=prefix)
    for field in fields:
        definition.put_field(field)
    return definition


def _id(label: str) -> FieldDef:
    return FieldDef("Id", "id", label, nillable=False, length=18, **READ_ONLY)


def _stamps(*, deletable: bool = True) -> list[FieldDef]:
    fields = [
        FieldDef("CreatedDate", "datetime", "Created Date", nillable=False, **READ_ONLY),
        FieldDef("LastModifiedDate", "datetime", "Last Modified Date", nillable=False, **READ_ONLY),
        FieldDef("SystemModstamp", "datetime", "System Modstamp", nillable=False, **READ_ONLY),
    ]
    if deletable:
        fields.append(FieldDef("IsDeleted", "boolean", "Deleted", nillable=False, default=False, **READ_ONLY))
    return fields


def _text(name: str, label: str, length: int = 255, **attributes: Any) -> FieldDef:
    return FieldDef(name, "string", label, length=length, **attributes)


def _number(name: str, label: str, type_: Any = "double", precision: int = 18, scale: int = 2) -> FieldDef:
    return FieldDef(name, type_, label, precision=precision, scale=scale)


def _picklist(name: str, label: str, values: tuple[str, ...], **attributes: Any) -> FieldDef:
    return FieldDef(name, "picklist", label, length=255, picklist_values=values, **attributes)


def _reference(name: str, label: str, to: tuple[str, ...], relationship: str, **attributes: Any) -> FieldDef:
    return FieldDef(
        name, "reference", label, length=18, reference_to=to, relationship_name=relationship, **attributes
    )


def _owner() -> FieldDef:
    return _reference("OwnerId", "Owner ID", ("User",), "Owner", nillable=False)


def _user() -> ObjectDef:
    return _object("User", "User", "Users", "005", [
        _id("User ID"),
        _text("Username", "Username", 80, nillable=False, unique=True),
        _text("Name", "Full Name", 121, **READ_ONLY),
        _text("FirstName", "First Name", 40),
        _text("LastName", "Last Name", 80, nillable=False),
        FieldDef("Email", "email", "Email", length=128, nillable=False),
        FieldDef("IsActive", "boolean", "Active", nillable=False, default=True),
        _text("Title", "Title", 80),
        _text("Department", "Department", 80),
        _text("Division", "Division", 80),
        _reference("ManagerId", "Manager ID", ("User",), "Manager"),
        *_stamps(deletable=False),
        _number("Q_Revenue__c", "Q Revenue", "currency"),
        _number("Q_Revenue_Target__c", "Q Revenue Target", "currency"),
        _number("Q_Revenue_Progress__c", "Q Revenue Progress", "percent"),
        _picklist("Q_Revenue_Status__c", "Q Revenue Status", OKR_STATUSES, restricted_picklist=True),
        _number("Q_New_Deals__c", "Q New Deals"),
        _number("Q_Calls__c", "Q Calls", precision=18, scale=0),
        _number("Q_Calls_Progress__c", "Q Calls Progress", "percent"),
        _number("Q_Win_Rate__c", "Q Win Rate", "percent"),
        FieldDef("OKR_Updated__c", "datetime", "OKR Updated"),
        # The user's personal currency: what SOQL convertCurrency() converts into.
        _picklist("DefaultCurrencyIsoCode", "User Currency", CURRENCIES, restricted_picklist=True, default="USD"),
    ])  # fmt: skip


def _account() -> ObjectDef:
    return _object("Account", "Account", "Accounts", "001", [
        _id("Account ID"),
        _text("Name", "Account Name", 255, nillable=False),
        _picklist("Type", "Account Type", ("Prospect", "Customer", "Partner", "Other")),
        _picklist("Industry", "Industry", (
            "Software", "Manufacturing", "Healthcare", "Retail", "Financial Services", "Logistics",
        )),
        _text("BillingCountry", "Billing Country", 80),
        _owner(),
        _picklist("CurrencyIsoCode", "Account Currency", CURRENCIES, restricted_picklist=True, default="USD"),
        *_stamps(),
    ])  # fmt: skip


def _record_type() -> ObjectDef:
    definition = _object("RecordType", "Record Type", "Record Types", "012", [
        _id("Record Type ID"),
        _text("Name", "Record Type Name", 80, **READ_ONLY),
        _text("DeveloperName", "Record Type Name", 80, **READ_ONLY),
        _picklist("SobjectType", "SObject Type Name", ("Opportunity", "Account", "Task"), **READ_ONLY),
        FieldDef("IsActive", "boolean", "Active", nillable=False, **READ_ONLY),
        *_stamps(deletable=False),
    ])  # fmt: skip
    definition.createable = definition.updateable = definition.deletable = False
    return definition


def _opportunity() -> ObjectDef:
    return _object("Opportunity", "Opportunity", "Opportunities", "006", [
        _id("Opportunity ID"),
        _text("Name", "Name", 120, nillable=False),
        _reference("AccountId", "Account ID", ("Account",), "Account"),
        _owner(),
        _reference("RecordTypeId", "Record Type ID", ("RecordType",), "RecordType"),
        _number("Amount", "Amount", "currency"),
        _picklist("CurrencyIsoCode", "Opportunity Currency", CURRENCIES, restricted_picklist=True, default="USD"),
        _picklist("StageName", "Stage", STAGES, nillable=False),
        FieldDef("IsClosed", "boolean", "Closed", nillable=False, **READ_ONLY),
        FieldDef("IsWon", "boolean", "Won", nillable=False, **READ_ONLY),
        _picklist("Type", "Opportunity Type", ("New Business", "Existing Business", "Renewal")),
        _picklist("LeadSource", "Lead Source", (
            "Web", "Phone Inquiry", "Employee Referral", "Purchased List", "Trade Show",
            "Partner Referral", "Existing Customer", "Other",
        )),
        FieldDef("CloseDate", "date", "Close Date", nillable=False),
        _number("Probability", "Probability (%)", "percent", precision=3, scale=0),
        _picklist("ForecastCategoryName", "Forecast Category", (
            "Omitted", "Pipeline", "Best Case", "Commit", "Closed",
        )),
        FieldDef("FiscalQuarter", "int", "Fiscal Quarter", precision=11, **READ_ONLY),
        FieldDef("FiscalYear", "int", "Fiscal Year", precision=11, **READ_ONLY),
        _text("NextStep", "Next Step", 255),
        FieldDef("Description", "textarea", "Description", length=32000),
        *_stamps(),
    ])  # fmt: skip


def _task() -> ObjectDef:
    return _object("Task", "Task", "Tasks", "00T", [
        _id("Activity ID"),
        _text("Subject", "Subject", 255),
        _owner(),
        _reference("WhatId", "Related To ID", ("Opportunity", "Account"), "What"),
        _reference("WhoId", "Name ID", ("Contact", "Lead"), "Who"),
        FieldDef("ActivityDate", "date", "Due Date Only"),
        FieldDef("CallDurationInSeconds", "int", "Call Duration", precision=8),
        _picklist("CallType", "Call Type", ("Inbound", "Outbound", "Internal")),
        _text("CallDisposition", "Call Result", 255),
        _text("CallObject", "Call Object Identifier", 255),
        # TaskSubtype is set on create only (§1.10).
        _picklist("TaskSubtype", "Task Subtype", (
            "Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn",
        ), updateable=False),
        _picklist("Status", "Status", (
            "Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred",
        ), nillable=False, default="Not Started"),
        _picklist("Priority", "Priority", ("High", "Normal", "Low"), nillable=False, default="Normal"),
        FieldDef("Description", "textarea", "Description", length=32000),
        *_stamps(),
    ])  # fmt: skip


# A declared stream's object in the demo (README "Any object as a stream"): conversion is what the
# lead-to-opportunity key result measures.
def _lead() -> ObjectDef:
    return _object("Lead", "Lead", "Leads", "00Q", [
        _id("Lead ID"),
        _text("LastName", "Last Name", 80, nillable=False),
        _text("Company", "Company", 255, nillable=False),
        _owner(),
        _picklist("Status", "Lead Status", (
            "Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted",
        ), nillable=False, default="Open - Not Contacted"),
        _picklist("LeadSource", "Lead Source", ("Web", "Partner Referral", "Trade Show", "Other")),
        FieldDef("IsConverted", "boolean", "Converted", nillable=False, default=False),
        FieldDef("ConvertedDate", "date", "Converted Date"),
        *_stamps(),
    ])  # fmt: skip


def _okr_key_result() -> ObjectDef:
    return _object("OKR_Key_Result__c", "OKR Key Result", "OKR Key Results", "a0X", [
        _id("Record ID"),
        _text("Name", "Key Result Name", 80, nillable=False),
        _text("OKR_Key__c", "OKR Key", 255, external_id=True, unique=True),
        _text("Period__c", "Period", 40),
        _number("Value__c", "Value"),
        _text("Currency__c", "Currency", 3),
        _number("Target__c", "Target"),
        _number("Progress__c", "Progress", "percent"),
        _number("Score__c", "Score", precision=3, scale=2),
        _picklist("Status__c", "Status", OKR_STATUSES, restricted_picklist=True),
        FieldDef("Owner_Email__c", "email", "Owner Email", length=128),
        FieldDef("Updated_At__c", "datetime", "Updated At"),
        _owner(),
        *_stamps(),
    ])  # fmt: skip


# Collaborative Forecasts (docs/crm-apis.md §1.13): what `target: {from: crm_quota}` reads.
def _forecasting_type() -> ObjectDef:
    return _read_only(_object("ForecastingType", "Forecasting Type", "Forecasting Types", "0Db", [
        _id("Forecasting Type ID"),
        _text("DeveloperName", "API Name", 80, nillable=False, **READ_ONLY),
        _text("MasterLabel", "Master Label", 80, nillable=False, **READ_ONLY),
        FieldDef("IsActive", "boolean", "Is Active", nillable=False, default=False, **READ_ONLY),
        FieldDef("IsAmount", "boolean", "Is Amount", nillable=False, default=False, **READ_ONLY),
        FieldDef("IsQuantity", "boolean", "Is Quantity", nillable=False, default=False, **READ_ONLY),
        FieldDef("CanDisplayQuotas", "boolean", "Can Display Quotas", nillable=False, default=True, **READ_ONLY),
        *_stamps(deletable=False),
    ]))  # fmt: skip


def _forecasting_quota() -> ObjectDef:
    return _object("ForecastingQuota", "Forecasting Quota", "Forecasting Quotas", "0J9", [
        _id("Forecasting Quota ID"),
        _reference("QuotaOwnerId", "Quota Owner ID", ("User",), "QuotaOwner"),
        _reference("ForecastingTypeId", "Forecasting Type ID", ("ForecastingType",), "ForecastingType"),
        FieldDef("StartDate", "date", "Start Date"),
        _number("QuotaAmount", "Quota Amount", "currency"),
        _number("QuotaQuantity", "Quota Quantity"),
        FieldDef("IsAmount", "boolean", "Is Amount", nillable=False, default=False),
        FieldDef("IsQuantity", "boolean", "Is Quantity", nillable=False, default=False),
        FieldDef("CurrencyIsoCode", "picklist", "Currency ISO Code", length=3, picklist_values=("USD", "EUR", "GBP"),
                 restricted_picklist=True, default="USD"),
        *_stamps(),
    ])  # fmt: skip


def custom_object(name: str, label: str, plural: str, prefix: str, name_label: str) -> ObjectDef:
    """A custom object as the Tooling API creates it: Id, a text Name, owner and stamps, and no
    access for anyone until a permission set's ObjectPermissions grants it (tooling_api.py)."""
    definition = _object(name, label, plural, prefix, [
        _id("Record ID"),
        _text("Name", name_label, 80, nillable=False),
        _owner(),
        *_stamps(),
    ])  # fmt: skip
    definition.createable = definition.updateable = False
    return definition


def _read_only(definition: ObjectDef) -> ObjectDef:
    definition.createable = definition.updateable = definition.deletable = False
    return definition


def _organization() -> ObjectDef:
    return _read_only(_object("Organization", "Organization", "Organizations", "00D", [
        _id("Organization ID"),
        _text("Name", "Name", 80, **READ_ONLY),
        _picklist("DefaultCurrencyIsoCode", "Currency", CURRENCIES, **READ_ONLY),
        FieldDef("IsSandbox", "boolean", "Is Sandbox", nillable=False, default=True, **READ_ONLY),
        *_stamps(deletable=False),
    ]))  # fmt: skip


def _currency_type() -> ObjectDef:
    """The org's currencies and their rates against the corporate currency (multi-currency orgs)."""
    return _read_only(_object("CurrencyType", "Currency Type", "Currency Types", "02A", [
        _id("Currency Type ID"),
        _picklist("IsoCode", "Currency ISO Code", CURRENCIES, restricted_picklist=True, nillable=False),
        _number("ConversionRate", "Conversion Rate", precision=18, scale=6),
        FieldDef("DecimalPlaces", "int", "Decimal Places", precision=9, nillable=False, default=2),
        FieldDef("IsActive", "boolean", "Active", nillable=False, default=False),
        FieldDef("IsCorporate", "boolean", "Corporate Currency", nillable=False, default=False),
        *_stamps(deletable=False),
    ]))  # fmt: skip


def _dated_conversion_rate() -> ObjectDef:
    """Date ranges of rates; exists only where Advanced Currency Management is enabled."""
    return _read_only(_object("DatedConversionRate", "Dated Conversion Rate", "Dated Conversion Rates", "04w", [
        _id("DatedConversion Rate ID"),
        _picklist("IsoCode", "Currency Code", CURRENCIES, restricted_picklist=True, nillable=False),
        _number("ConversionRate", "Exchange Rate", precision=18, scale=6),
        FieldDef("StartDate", "date", "Date", nillable=False),
        FieldDef("NextStartDate", "date", "Next Start Date", **READ_ONLY),
        *_stamps(deletable=False),
    ]))  # fmt: skip
