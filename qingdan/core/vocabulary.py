"""The words clerks write for the ledger's codes: one table of synonyms for every way in.

The ledger's own words (``一般``/``重大``, ``自查``…, the status labels) come from
:mod:`qingdan.core.labels`; this module adds the other ways clerks write them (``重大隐患``,
``执法检查``, ``已整改``…). The command models take them (so the library, the HTTP API and the
command line accept ``重大隐患`` for ``重大``), and the importer reads a 台账's cells with them: one
vocabulary. Every table maps a normalised word (see :func:`word_key`) to the ledger's code or word.
"""

from __future__ import annotations

import re
from typing import Any

from .labels import (
    ESCALATION_LEVELS,
    HAZARD_STATUS_LABELS,
    LEVELS,
    MEASURE_KINDS,
    MEASURE_STATUS_LABELS,
    SOURCES,
    VERIFY_METHODS,
)

_SPACE = re.compile(r"[\s\u3000]+")


def word_key(text: object) -> str:
    """How a cell's word is compared: no spaces (ASCII or full-width), ASCII lower case."""
    return _SPACE.sub("", str(text)).lower()


def _table(own: dict[str, str], synonyms: dict[str, tuple[str, ...]]) -> dict[str, str]:
    table = {word_key(k): v for k, v in own.items()}
    for code, words in synonyms.items():
        for word in words:
            table.setdefault(word_key(word), code)
    return table


#: 隐患等级 → ``一般`` | ``重大``
LEVEL_WORDS = _table({level: level for level in LEVELS}, {
    "一般": ("一般隐患", "一般事故隐患", "一般问题", "一般风险隐患", "较小"),
    "重大": ("重大隐患", "重大事故隐患", "重大问题", "重大风险隐患"),
})

#: 隐患来源 → one of :data:`qingdan.core.labels.SOURCES`
SOURCE_WORDS = _table({source: source for source in SOURCES}, {
    "自查": ("企业自查", "自检自查", "自检", "单位自查", "自查自纠"),
    "检查": ("执法检查", "日常检查", "排查", "专项检查", "监督检查", "镇级检查", "部门检查", "联合检查",
             "暗查暗访", "明查暗访"),
    "督查": ("督导", "督查检查", "督导检查", "巡查"),
    "督导组移交": ("移交", "上级移交", "督导组交办", "交办", "上级交办"),
    "举报": ("投诉举报", "群众举报", "投诉", "12345", "12350"),
    "其他": ("其它",),
})

#: 整改状态 → how far the rectification has gone: ``open`` (reported or rectifying),
#: ``rectifying``, ``completed`` (awaiting verification), ``verified``, ``closed``, ``withdrawn``.
HAZARD_STATUS_WORDS = _table({
    HAZARD_STATUS_LABELS["reported"]: "open", HAZARD_STATUS_LABELS["rectifying"]: "rectifying",
    HAZARD_STATUS_LABELS["awaiting_verification"]: "completed", HAZARD_STATUS_LABELS["closed"]: "closed",
    HAZARD_STATUS_LABELS["withdrawn"]: "withdrawn",
    # the codes themselves, as JSON and csv exports of other tools write them
    "reported": "open", "rectifying": "rectifying", "awaiting_verification": "completed",
    "closed": "closed", "withdrawn": "withdrawn",
}, {
    "open": ("未整改", "未开始", "尚未整改", "未完成整改"),
    "rectifying": ("正在整改", "整改未完成", "整改当中", "正在整改中", "限期整改", "未完成"),
    "completed": ("已整改", "整改完成", "已完成", "完成", "已完成整改", "整改完毕", "已整改待验收",
                  "已整改待复查", "待复查"),
    "verified": ("已验收", "验收通过", "已复查", "复查通过", "已验收待销号", "待销号"),
    "closed": ("销号", "已闭环", "闭环", "已销号闭环", "已整改销号"),
    "withdrawn": ("撤销", "已作废", "作废", "重复登记"),
})

#: 状态 of a measure → its code
MEASURE_STATUS_WORDS = _table({label: code for code, label in MEASURE_STATUS_LABELS.items()} | {
    code: code for code in MEASURE_STATUS_LABELS}, {
    "planned": ("待制定", "未制定", "制定中", "未出台", "起草中"),
    "issued": ("已出台", "已制定", "印发", "已发布", "已下发"),
    "implemented": ("落实", "已完成", "已执行", "执行中"),
    "repealed": ("废止", "已失效", "已撤销"),
})

#: 类型 of a measure → one of :data:`qingdan.core.labels.MEASURE_KINDS` (``制度类`` → ``制度``)
MEASURE_KIND_WORDS = _table({kind: kind for kind in MEASURE_KINDS} | {
    f"{kind}类": kind for kind in MEASURE_KINDS}, {"其他": ("其它",), "方案": ("实施方案", "工作方案"),
                                                   "机制": ("工作机制",)})

#: 挂牌督办 / 督办级别 → one of :data:`qingdan.core.labels.ESCALATION_LEVELS`
ESCALATION_WORDS = _table({level: level for level in ESCALATION_LEVELS} | {
    f"{level}级": level for level in ESCALATION_LEVELS}, {
    "镇": ("乡镇", "乡镇级", "镇级挂牌", "街道"), "市": ("县", "县级", "区级", "市县级", "市级挂牌"),
    "省": ("省级挂牌",)})

#: 验收方式 → one of :data:`qingdan.core.labels.VERIFY_METHODS`
VERIFY_METHOD_WORDS = _table({method: method for method in VERIFY_METHODS}, {
    "自评": ("自评验收", "企业自评"), "专家": ("专家验收", "专家评审"), "政府验收": ("政府", "部门验收")})

#: Yes and no, as 挂牌督办 and similar columns write them.
YES_WORDS = frozenset(word_key(w) for w in (
    "是", "有", "√", "✓", "✔", "y", "yes", "true", "1", "已挂牌", "挂牌", "已督办", "督办", "挂牌督办"))
NO_WORDS = frozenset(word_key(w) for w in (
    "否", "无", "×", "✗", "n", "no", "false", "0", "未挂牌", "不挂牌", "-", "—", "/", "／", "无需"))


def choices(table: dict[str, str]) -> str:
    """The Chinese words of a table, for a message: ``一般、重大、一般隐患…`` (the first few)."""
    words = [w for w in table if not w.isascii()]
    return "、".join(words[:12]) + ("…" if len(words) > 12 else "")


def canonical(table: dict[str, str], value: Any) -> Any:
    """The ledger's word for ``value`` when ``table`` knows it, else ``value`` unchanged (for the
    command model to accept or to refuse, listing the words it takes)."""
    if isinstance(value, str):
        return table.get(word_key(value), value)
    return value

