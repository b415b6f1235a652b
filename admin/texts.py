"""Every user-facing Chinese message of the admin that is not in a template, in one place for review."""

from handlers.texts import chat as chat_texts
from handlers.texts import classes as class_texts
from handlers.texts import records as record_texts
from handlers.texts import reports as report_texts
from handlers.texts import ledger_problem  # noqa: F401  (texts.ledger_problem for the admin)
from handlers.texts import supervision as supervision_texts

APP_TITLE = "钉钉班级群培训监管"
NO_SECRET_KEY = "缺少 DINGCLASS_SECRET_KEY：管理后台需要它来签名登录会话，请设置后再启动"
SECRET_KEY_TOO_SHORT = ("DINGCLASS_SECRET_KEY 太短：至少需要 {min} 字节的随机字符串（例如 "
                        "python3 -c 'import secrets; print(secrets.token_urlsafe(32))' 的输出）")

ROLE_NAMES = {
    "admin": "系统管理员",
    "city": "市级监督核查",
    "district": "旗县区监督核查",
    "institution": "培训机构",
    "teacher": "教师",
}
MODE_NAMES = {"live": "直播", "recorded": "录播", "platform": "平台资源"}
LEAVE_NAMES = {"none": "", "pending": "待批", "approved": "已准假", "rejected": "已驳回"}
PHOTO_STATUS_NAMES = {
    "pending": "待审核",
    "duplicate": "疑似重复",
    "accepted": "审核通过",
    "rejected": "已驳回",
    "ok": "有效",
    "extra": "当日多余（不计入）",
}
PUNCH_NAMES = chat_texts.PUNCH_NAMES
EXPORT_NAMES = {"attendance": report_texts.ATTENDANCE_SHEET_NAME, "qualification": report_texts.QUALIFICATION_SHEET_NAME}

# --- auth ----------------------------------------------------------------------------------------
LOGIN_REQUIRED = "请先登录。"
LOGIN_FAILED = "用户名或密码不正确。"
LOGIN_LOCKED = "登录失败次数过多：{minutes} 分钟内失败 {count} 次，请 {minutes} 分钟后再试，或联系系统管理员。"
LOGIN_ADDRESS_LOCKED = "来自您所在网络地址的登录失败次数过多（{minutes} 分钟内 {count} 次），请 {minutes} 分钟后再试。"
LOGGED_OUT = "已退出登录。"
CSRF_FAILED = "页面已过期或缺少安全校验（CSRF），请返回刷新页面后重试。"

# --- errors --------------------------------------------------------------------------------------
NOT_FOUND = "没有找到这个页面，或您无权查看它。"
FORBIDDEN = "您的角色不能进行这项操作。"
BAD_REQUEST = "请求有误。"
SERVER_ERROR = "服务器内部错误，已记录，请稍后再试。"
API_UNAUTHORIZED = "需要有效的接口令牌：请在请求头中提供 Authorization: Bearer <令牌>（用 dingclass user token 签发）"
API_NOT_FOUND = "没有找到：班级不存在或不在您的权限范围内"
API_NO_SUCH_PATH = "没有这个接口：{method} {path}（全部接口见 /api/v1/openapi.json）"
API_BAD_DATE = "日期格式不正确：应为 YYYY-MM-DD，例如 2026-12-01（收到“{value}”）"
API_NOT_CLASS_DAY = "{date} 不是班级 {code} 的培训日（培训日期 {start} 至 {end}，休息日不上课）"
API_UNKNOWN_PARAMETERS = "不支持的查询参数：{names}（只有 /api/v1/reports/daily 接受 date）"
API_METHOD = "不支持这种请求方法"

# --- actions -------------------------------------------------------------------------------------
STATUS_CHANGED = "班级 {code} 已改为“{status}”（操作人 {actor}）。"
STATUS_ACTION_NAMES = {"approved": "审核通过", "returned": "退回机构", "submitted": "重新提交", "filed": "备案"}
STATUS_REASON_LABELS = {"approved": "审核意见", "returned": "退回理由（必填）", "submitted": "说明", "filed": "备案意见"}
APPROVAL_PROBLEMS_HEADING = "审核通过前须解决（R02）："
CLASS_RETURNED_NOTICE = "本班培训计划已被旗县区退回（理由见审核记录）：培训机构改正后重新提交（R02）。"
CHANGE_STATUS = class_texts.CHANGE_STATUS
CHANGE_DECIDED = "第 {number} 号计划变更：{status}。"
ROSTER_PENDING_SHORT = "新增，待旗县区确认（R02）"
ROSTER_CHANGE_NAMES = class_texts.ROSTER_CHANGE_KINDS
ROSTER_NOTED = "已确认 {count} 项花名册变更。"
RECHECK_SHORT = "（待复核）"
RECHECK_HINT = "身份类别不在本班政策配置的培训对象中（R22）：请旗县区复核，不符合的标记为“不符合培训条件”。"
MARK_NAMES = {"disqualified": "取消资格（数据异常）", "ineligible": "不符合培训条件（R22）"}
MARK_HEADINGS = {"disqualified": "取消资格（R15，数据异常）", "ineligible": "不符合培训条件（R22，培训前复核）"}
REVIEW_DONE = "照片 #{id} 已{decision}。"
REVIEW_DECISIONS = {True: "通过", False: "驳回"}
REVIEW_PROBLEMS = {
    "reason_required": "请填写审核理由。",
    "not_flagged": "这张照片已经审核过了，不在待审核之列。",
}
REVIEW_FORBIDDEN = "照片审核由监督核查人员（旗县区、市）进行，培训机构不能审核自己学员的照片。"


# Ledger event types as a person reads them (the code stays visible on hover); an unknown type shows as is.
EVENT_NAMES = {
    "class.created": "建班", "class.submit": "提交审核", "class.approve": "审核通过", "class.file": "备案",
    "class.return": "退回修改", "class.transition": "班级状态变更", "session.created": "设置课程时段",
    "district.created": "新增旗县区", "institution.created": "新增机构", "staff.created": "新增工作人员",
    "staff_role.granted": "授予工作人员角色", "person.created": "登记学员身份", "enrollment.created": "加入花名册",
    "enrollment.removed": "移出补贴名单", "import.roster": "导入花名册", "import.hours": "导入观看统计",
    "group.bound": "绑定班级群", "group.unbound": "解绑班级群", "identity.bound": "绑定钉钉账号",
    "identity.unbound": "解绑钉钉账号", "identity.seen": "记录钉钉账号", "identity.staff_id": "记录钉钉员工号",
    "message.received": "收到消息", "punch.in": "签到", "punch.out": "签退", "leave.requested": "请假申请",
    "leave.approved": "准假", "leave.rejected": "驳回请假", "photo.received": "学习照片",
    "photo.invalid": "无效照片", "photo.reviewed": "审核照片", "photo.slot_moved": "改计更早发送的照片",
    "study_minutes.imported": "导入学习时长",
    "study_minutes.pulled": "拉取直播时长", "study_minutes.updated": "更新学习时长",
    "study_minutes.attendance": "按考勤计时长", "user.created": "新增后台用户", "user.disabled": "停用后台用户",
    "user.enabled": "启用后台用户", "user.password_reset": "重置密码", "user.unlocked": "解除登录锁定",
    "user.token_revoked": "吊销接口令牌", "user.token_issued": "签发接口令牌",
    "rollcall.started": "发起点名", "rollcall.sampled": "抽中点名", "rollcall.answered": "点名应答",
    "rollcall.closed": "点名结束", "inspection.recorded": "记录检查", "inspection.evidence": "检查截图",
    "inspection.findings_sent": "检查结论已反馈", "class.ineligible": "失去补贴资格", "trainee.disqualified": "取消学员资格",
    "homework.posted": "布置作业", "homework.submitted": "交作业", "homework.checked": "批改作业",
    "attachment.received": "收到附件", "attachment.downloaded": "下载附件", "qa.opened": "开始答疑",
    "qa.closed": "结束答疑", "question.asked": "提问", "question.carried": "问题并入答疑", "question.answered": "回答",
    "spot_check.recorded": "抽查", "supervision_group.bound": "绑定督查群", "report.sent": "发送日报",
    "certificate.counter": "证书编号计数", "certificate.issued": "发放证书编号", "certificate.revoked": "撤销证书",
    "export.downloaded": "下载含身份证号的材料", "institution.account": "设置机构银行账户",
    "ledger.carried": "转入本班台账链",
}
# Who acted, by the prefix of the ledger's actor field (``staff:12:王芳`` → 工作人员 王芳).
ACTOR_KINDS = {"person": "学员", "staff": "工作人员", "user": "后台用户", "cli": "命令行", "demo": "演示",
               "district": "旗县区", "city": "市局", "system": "系统", "bot": "机器人", "scheduler": "调度器",
               "test": "测试", "migration": "数据库升级"}

GROUP_UNBOUND = "已解除与群「{title}」的绑定，群里已收到说明；记入台账。"
PERSON_UNBOUND = "已解除学员 {name} 的钉钉绑定，已单聊通知 {told} 个账号；记入台账。"
PERSON_NOT_REACHABLE = "组织外账号钉钉不允许机器人主动单聊，请当面或电话告知本人。"

# --- supervision (R13–R15) ---------------------------------------------------------------------------
ROLLCALL_STARTED = "已在班级 {code} 发起第 {number} 次点名：抽取 {size}/{roster} 人，{deadline} 截止。"
INSPECTION_SAVED = "已记录检查：{line}"
INSPECTION_BAD_NUMBER = "应到、实到须为整数。"
FINDINGS_SENT = "已记录：第 {id} 号检查的结论已反馈旗县区。"
TRAINEE_MARKED = "已标记 {name}：{kind}。"
INSPECTION_KIND_NAMES = supervision_texts.INSPECTION_KINDS
INSPECTION_LEVEL_NAMES = supervision_texts.INSPECTION_LEVELS

# --- ledger check (R17) --------------------------------------------------------------------------
VERIFY_STARTED = "台账校验已在后台开始，完成后刷新本页查看结果。"
VERIFY_ALREADY_RUNNING = "已有一次台账校验正在进行，请稍后刷新本页。"
# --- teaching (R10, admin/teaching.py) ---------------------------------------------------------------
HOMEWORK_NO_SUCH = "没有第 {number} 号作业。"
HOMEWORK_BAD_SCORE = "{name}的分数“{score}”不对：应为0到{top}的整数。本次批改都未保存。"
HOMEWORK_NOTHING_TO_CHECK = "没有填写任何评语或分数，未保存。"
HOMEWORK_CHECKED = "已批改第 {number} 号作业 {count} 份。"

# --- accounts (admin/users.py) -----------------------------------------------------------------------
USER_DISABLED = "已停用账号 {name}，其登录会话已全部失效；记入台账。"
USER_ENABLED = "已启用账号 {name}；记入台账。"
USER_UNLOCKED = "已解除账号 {name} 的登录锁定（清除 {cleared} 次失败记录）；记入台账。"
USER_TOKENS_REVOKED = "已吊销账号 {name} 的 {count} 个接口令牌；记入台账。"
USER_PASSWORD_RESET = "已为账号 {name} 生成新密码（只显示这一次，请当面或通过安全渠道交给本人）："
USER_SELF = "不能停用自己正在使用的账号。"

# --- a trainee's timeline (admin/classes.py) -------------------------------------------------------
SOURCE_MESSAGE = "钉钉消息 {ref}"
SOURCE_MESSAGE_SENT = "（发送于 {at:%m-%d %H:%M:%S}）"
SOURCE_FILE = "导入文件 {name}（SHA-256 {digest}…）"
SOURCE_CLI = "命令行 {ref}"
SOURCE_CLI_BARE = "命令行"
TIMELINE_KINDS = {"photo": "学习照片", "leave": "请假", "minutes": "学习时长", "submission": "交作业",
                  "check": "作业批改", "question": "提问", "answer": "回答"}
TIMELINE_LATE = "，迟到"
TIMELINE_EARLY = "，早退"
TIMELINE_NOT_COUNTED = "（班级未审核，不计入补贴）"
TIMELINE_PHOTO = "#{id} {day:%m-%d} {state}{note}{dup}{review}"
TIMELINE_PHOTO_COUNTED = "，计入当日照片"
TIMELINE_PHOTO_NOT_COUNTED = "，不计入"
TIMELINE_PHOTO_DUPLICATE = "，与照片 #{id} 重复"
TIMELINE_PHOTO_REVIEW = "，{by}：{reason}"
TIMELINE_LEAVE = "#{id} {day:%m-%d}：{reason}（{status}{decided}）"
TIMELINE_LEAVE_DECIDED = "，{by} 于 {at:%m-%d %H:%M} 处理"
TIMELINE_MINUTES = "{day:%m-%d} 直播 {live} 分钟 + 回看 {replay} 分钟"
TIMELINE_SUBMISSION = "第 {number} 号：{content}"
TIMELINE_SUBMISSION_LATE = "（迟交）"
TIMELINE_SCORE = "，{score} 分"
TIMELINE_CHECK = "第 {number} 号：{comment}{score}（{by}）"
TIMELINE_NUMBERED = "#{number} {content}"
TIMELINE_ANSWER = "#{number} {content}（{by}）"

# --- charts (admin/charts.py) ----------------------------------------------------------------------
CHART_DAYS_TITLE = "每日签到与学习时长达标"
CHART_DAYS_LEGEND = ("签到人数占比", "学习时长达标（R09）占比")
CHART_DAY_BAR = "{day} 签到 {checked_in}/{trainees} 人（{percent}%），学习时长达标 {day_ok} 人"
CHART_DAY_POINT = "{day} 学习时长达标 {day_ok}/{trainees} 人"
CHART_HISTOGRAM_TITLE = "学员累计完成比例分布（%）"
CHART_HISTOGRAM_LEGEND = ("未达合格线", "达到合格线（R16）")
CHART_BUCKET = "完成比例 {label}：{count} 人"
CHART_THRESHOLD = "合格线 {percent}%"
# --- certificates (R20), subsidy package (R19), bank account (admin/records.py) -------------------------
CERTS_ISSUED = "班级 {code}：新发放证书编号 {new} 个，此前已发放 {kept} 个。"
CERTS_NONE = "班级 {code} 没有合格的学员，没有发放证书编号。"
CERT_REVOKED = "已撤销证书 {number}（{name}），编号不会再发放。"
SUBSIDY_STAGE_NAMES = record_texts.SUBSIDY_STAGE_NAMES

# Messages the bot could not deliver (admin/outbox.py)
OUTBOX_KINDS = {"reply": "回复", "group": "群消息", "oto": "单聊消息", "download": "图片下载", "drive": "归档上传钉盘"}
OUTBOX_REQUEUED = "已把消息 #{id} 放回发件箱，运行中的机器人会再发一次。"
OUTBOX_NOT_STUCK = "消息 #{id} 已发出或正在发送，没有放回发件箱。"
