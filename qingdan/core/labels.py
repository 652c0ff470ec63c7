"""The words a clerk reads: one table per concept, used by the core's messages, the command line,
the 台账 workbooks and the importer alike.

Codes (``rectifying``, ``met``, ``hazard``) are what JSON and host systems see; these tables are the
only place that says how each is shown. The allowed words of a field (``一般`` / ``重大`` …) are part
of the vocabulary too: the command models and the importer take them from here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

# -- the allowed words of the domain ---------------------------------------------------------------

LEVELS = ("一般", "重大")
SOURCES = ("自查", "检查", "督查", "督导组移交", "举报", "其他")
ESCALATION_LEVELS = ("镇", "市", "省")
VERIFY_METHODS = ("自评", "专家", "政府验收")
#: How a 回头看 re-inspection of a closed hazard was made.
RECHECK_METHODS = ("现场复查", "资料复查", "暗查暗访")
MEASURE_KINDS = ("制度", "机制", "方案", "标准", "其他")
#: What an attached file is evidence of (``Ledger.attach``): photos before and after rectification,
#: the 验收 record, a document (整改通知书, 复查意见书, a measure's issued text) or anything else.
ATTACHMENT_KINDS = ("整改前", "整改后", "验收", "文书", "其他")
#: The file types an attachment may be (sniffed from its content, never from its name).
MEDIA_TYPE_LABELS = {
    "image/jpeg": "JPEG 图片", "image/png": "PNG 图片", "image/gif": "GIF 图片", "image/webp": "WebP 图片",
    "application/pdf": "PDF 文档",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word 文档（docx）",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel 表格（xlsx）",
    "application/msword": "Word 文档（doc）", "application/vnd.ms-excel": "Excel 表格（xls）",
}

# -- statuses --------------------------------------------------------------------------------------

HAZARD_STATUS_LABELS = {
    "reported": "待整改",
    "rectifying": "整改中",
    "awaiting_verification": "待验收",
    "closed": "已销号",
    "withdrawn": "已撤销",
}
MEASURE_STATUS_LABELS = {
    "planned": "拟制定",
    "issued": "已印发",
    "implemented": "已落实",
    "repealed": "已废止",
}
TASK_STATUS_LABELS = {"not_started": "未开始", "in_progress": "推进中", "done": "已完成"}

#: The state of a 整治目标 (``TargetStatus.state``).
TARGET_STATE_LABELS = {
    "met": "已达标",
    "on_track": "按进度",
    "at_risk": "滞后",
    "missed": "未完成",
    "no_data": "无数据",
}

# -- 五到位 -----------------------------------------------------------------------------------------

FIVE_PARTS = ("responsibility", "measures", "funds", "deadline", "contingency")
FIVE_PART_LABELS = {
    "responsibility": "责任",
    "measures": "措施",
    "funds": "资金",
    "deadline": "时限",
    "contingency": "预案",
}

# -- record kinds ----------------------------------------------------------------------------------

#: By record kind (the view's ``kind`` column and :mod:`qingdan.core.kinds`).
KIND_LABELS = {
    "hazard": "问题隐患", "measure": "制度措施", "task": "重点任务", "unit": "监管对象",
    "indicator": "指标", "report": "报送记录", "township": "乡镇信息", "policy": "权限配置",
}

#: How a clerk names each kind of event (``HistoryEntry.type``, the event class's name).
EVENT_TYPE_LABELS = {
    # 问题隐患
    "Reported": "登记", "RectificationPlanned": "整改方案", "Escalated": "挂牌督办",
    "ExtensionRequested": "申请延期", "ExtensionDecided": "延期审批", "ProgressReported": "整改进展",
    "RectificationCompleted": "整改完成", "Verified": "验收", "Closed": "销号", "Reopened": "反销号",
    "Rechecked": "回头看复查", "Corrected": "更正", "Withdrawn": "撤销", "Attached": "附件",
    # 制度措施
    "Added": "登记", "Issued": "印发", "Implemented": "落实", "Revised": "修订", "Repealed": "废止",
    # 重点任务、指标
    "Tracked": "开始跟踪", "Completed": "完成", "Recorded": "填报",
    # 监管对象
    "Registered": "登记", "AttributesSet": "变更属性", "UnitClosed": "注销",
    # 权限配置
    "PolicyAdopted": "启用权限配置", "PolicyChanged": "修改权限配置",
    # 报送
    "Submitted": "报送", "Resubmitted": "重新报送",
    # 乡镇信息
    "Described": "设定乡镇信息", "Redescribed": "修改乡镇信息",
}



def event_label(kind: str) -> str:
    """What a clerk calls a kind of event (``Hazard.Reported`` or ``Reported`` → 登记)."""
    return EVENT_TYPE_LABELS.get(kind.rsplit(".", 1)[-1], kind)


# -- fields ----------------------------------------------------------------------------------------

#: Every field of a hazard row, as the 问题隐患清单 heads its columns.
HAZARD_FIELD_LABELS = {
    "number": "隐患编号", "campaign": "专项", "unit": "单位名称", "unit_number": "单位编号",
    "village": "村（居）", "location": "隐患部位", "category": "隐患类别", "level": "隐患等级",
    "source": "隐患来源", "found_on": "排查日期", "inspectors": "检查人员", "description": "隐患描述",
    "responsible_unit": "整改责任单位", "responsible_person": "责任人", "measures": "整改措施",
    "funds": "整改资金（万元）", "deadline": "整改期限", "deadline_rule": "期限计算",
    "contingency": "应急预案", "escalated": "挂牌督办", "escalated_on": "挂牌日期",
    "escalation_level": "督办级别", "supervisor": "督办单位",
    "escalation_doc_no": "督办文号", "extension_pending": "待批延期至", "status": "整改状态",
    "overdue": "是否超期", "five_in_place": "五到位", "missing_parts": "五到位缺项",
    "completed_on": "完成日期", "cost": "实际整改费用（万元）", "verified_on": "验收日期",
    "closed_on": "销号日期", "withdrawn_on": "撤销日期", "reopened": "反销号次数",
    "last_progress_on": "最近进展日期", "note": "备注", "rechecked_on": "回头看复查日期",
    "attachments": "附件",
}

#: The hazard fields a ``correct`` may change (the rest follow from events).
HAZARD_CORRECTABLE = {key: HAZARD_FIELD_LABELS[key] for key in (
    "unit unit_number village location category level source inspectors description "
    "responsible_unit responsible_person measures funds deadline contingency".split())}

#: Every field of a measure row, as the 制度措施清单 heads its columns.
MEASURE_FIELD_LABELS = {
    "number": "编号", "campaign": "专项", "title": "制度措施名称", "kind": "类型",
    "department": "责任部门", "due": "完成时限", "added_on": "登记日期", "status": "状态",
    "doc_no": "文号", "issued_on": "印发日期", "implemented_on": "落实日期", "repealed_on": "废止日期",
    "revisions": "修订次数", "overdue": "是否超期", "attachments": "附件",
}

UNIT_FIELD_LABELS = {
    "number": "编号", "name": "名称", "kind": "类型", "village": "村（居）",
    "credit_code": "统一社会信用代码", "attributes": "属性", "registered_on": "登记日期",
    "closed_on": "注销日期",
}

#: The township profile printed on every form (title, 填报单位, signatures), as clerks call its fields.
TOWNSHIP_FIELD_LABELS = {
    "name": "乡镇名称", "unit": "填报单位", "reviewer": "审核人", "preparer": "填表人",
    "phone": "联系电话", "departments": "部门",
}

#: The arguments of commands, as validation messages name them.
COMMAND_FIELD_LABELS = {
    **{k: HAZARD_FIELD_LABELS[k] for k in (
        "campaign", "unit", "description", "level", "found_on", "category", "village", "location",
        "source", "inspectors", "unit_number", "responsible_unit", "responsible_person",
        "measures", "funds", "deadline", "contingency", "supervisor")},
    "doc_no": "文号", "reason": "理由", "approved": "审批结果", "text": "进展情况",
    "cost": HAZARD_FIELD_LABELS["cost"], "passed": "验收结论", "inspector": "验收人",
    "method": "验收方式", "field": "更正字段", "value": "更正值", "title": "标题", "kind": "类型",
    "department": MEASURE_FIELD_LABELS["department"], "due": MEASURE_FIELD_LABELS["due"],
    "percent": "完成百分比", "name": "名称", "credit_code": UNIT_FIELD_LABELS["credit_code"],
    "attributes": UNIT_FIELD_LABELS["attributes"], "period": "报送期间", "as_of": "截至日期",
    "resubmit_reason": "重新报送原因", "on": "业务日期", "actor": "操作人", "note": "备注",
    "number": "编号", "deadline_working_days": "整改期限（工作日数）",
    "path": "文件路径", "data": "文件内容",
}


EXTRA_FIELD_LABELS = {
    "id": "编号", "period": "报送期次", "submission": "第几次报送", "submitted_on": "报送日期",
    "submitted_at": "报送登记时间", "known_at": "按此时登记", "position": "事件位置", "chain": "哈希链头",
    "digest": "清单摘要", "digest_fields": "摘要所含字段", "hazard_count": "问题隐患条数",
    "measure_count": "制度措施项数", "resubmissions": "重报次数", "version": "事件序号", "type": "事件类型",
    "recorded_at": "登记时间", "data": "事件内容", "value": "数值", "goal": "目标值", "comparator": "比较方式",
    "state": "状态", "source": "依据", "lead_departments": "牵头部门", "departments": "配合部门",
    "percent": "完成百分比", "last_progress": "最近进展", "last_progress_on": "最近进展日期",
    "target_id": "目标编号", "hazards": "问题隐患清单", "measures": "制度措施清单",
    "days_left": "剩余天数", "working_days_left": "剩余工作日", "within_days": "提前天数",
    "overdue_items": "已逾期", "due_items": "即将到期", "text": "通知正文",
    "responsible_departments": "负责部门", "inferred": "推定说明", "recurrence": "周期",
    "sha256": "SHA-256", "size": "大小（字节）", "media_type": "文件类型", "taken_at": "拍摄时间",
    "gps": "拍摄位置", "width": "宽（像素）", "height": "高（像素）", "warning": "提示",
}


def attachments_label(attachments: Any) -> str:
    """How the 台账's 附件 column shows a row's attachments: ``3（整改前2、整改后1）``; empty for none."""
    if not attachments:
        return ""
    counts: dict[str, int] = {}
    for item in attachments:
        kind = item["kind"] if isinstance(item, dict) else item.kind
        counts[kind] = counts.get(kind, 0) + 1
    kinds = "、".join(f"{k}{counts[k]}" for k in ATTACHMENT_KINDS if k in counts)
    return f"{len(attachments)}（{kinds}）"


def size_label(size: int) -> str:
    """A file size as a clerk reads it: ``812 字节``, ``35.2 KB``, ``4.1 MB``."""
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"

#: How often a recurring 重点任务 is due (``TaskSpec.recurrence``).
RECURRENCE_LABELS = {"yearly": "每年", "half-yearly": "每半年", "quarterly": "每季度", "monthly": "每月"}

#: What a 时限规则 (``DeadlineRule.what``) asks to be done within its working days.
DEADLINE_WHAT_LABELS = {
    "five_in_place": "落实整改责任、措施、资金、时限和预案“五到位”",
    "progress": "报告一次整改进展",
}

#: By the kind of a 到期事项 (``DueItem.kind``).
#: How a row differs between a submission and now (回头看).
CHANGE_LABELS = {"added": "新增", "changed": "变更", "removed": "删除"}

DUE_KIND_LABELS = {"hazard": "问题隐患", "task": "重点任务", "measure": "制度措施"}


def deadline_rule_label(rule: dict[str, Any] | None, deadline: date | None) -> str | None:
    """How a deadline was counted, as a clerk reads it: ``15个工作日（至2020-10-21）``; None for a
    deadline given as a date."""
    if not rule or deadline is None:
        return None
    return f"{rule['working_days']}个工作日（至{deadline.isoformat()}）"


def days_label(days_left: int, working_days_left: int | None) -> str:
    """``还有3天（2个工作日）`` / ``今天到期`` / ``已逾期5天（3个工作日）``."""
    working = "" if working_days_left is None else f"（{abs(working_days_left)}个工作日）"
    if days_left > 0:
        return f"还有{days_left}天{working}"
    if days_left == 0:
        return "今天到期"
    return f"已逾期{-days_left}天{working}"


def field_label(name: str) -> str | None:
    """What a clerk calls a field of a row or a command (None when it has no label)."""
    for table in (COMMAND_FIELD_LABELS, HAZARD_FIELD_LABELS, MEASURE_FIELD_LABELS, UNIT_FIELD_LABELS,
                  EXTRA_FIELD_LABELS):
        if name in table:
            return table[name]
    return None


def describe_schema(schema: dict) -> None:
    """Give each property of a JSON schema its Chinese label as description (OpenAPI, hosts)."""
    for name, prop in schema.get("properties", {}).items():
        label = field_label(name)
        if label and "description" not in prop:
            prop["description"] = label


def status_label(status: str) -> str:
    """A hazard, measure or task status as a clerk reads it (the code itself when unknown)."""
    return (HAZARD_STATUS_LABELS.get(status) or MEASURE_STATUS_LABELS.get(status)
            or TASK_STATUS_LABELS.get(status) or status)
