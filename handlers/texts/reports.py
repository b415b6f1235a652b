"""Reports and registers: the daily report (R11), the printed registers and the weekly 考勤台账, ledger verification findings (R17), the R18 archive.

A flat module of constants and ``str.format`` templates, grouped by feature; identifiers English, text Chinese.
"""

SHEET_MARKED = "不合格（{kind}）"
SHEET_INELIGIBLE_LABEL = "补贴资格（R15）"
SHEET_INELIGIBLE = "已失去补贴资格：{reason}"
SHEET_ELIGIBILITY_LOST = "已审核/已备案，但已失去补贴资格（R15，见上）"

# --- Daily report (R11, handlers/daily_report.py) ----------------------------------------------------
REPORT_NO_SUCH_DISTRICT = "没有名为“{name}”的旗县区。"
REPORT_YES = "是"
REPORT_NO = "否"
REPORT_TITLE = "{district} {day:%Y-%m-%d} 线上培训日报"
REPORT_CLASS_TITLE = "{code}「{name}」{day:%Y-%m-%d} 学员日统计"
REPORT_DAY = "日期"
REPORT_CLASSES = "培训班"
REPORT_TRAINEES = "学员"
REPORT_DAY_OK = "学习时长达标"
REPORT_TOTAL = "合计"
REPORT_INSTITUTION = "培训机构"
REPORT_THRESHOLD = "当日达标学习分钟"
REPORT_SPOT_CHECKS = "抽查（实/应）"
REPORT_QA = "答疑"
REPORT_QA_VALUE = "{sessions} 场，提问 {questions}，回答 {answered}"
REPORT_NOTE_DEFINITIONS = ("签到、签退、照片只计已审核通过班级的有效记录；时长达标按当日计划线上课时的比例计；"
                           "交作业、批改、提问、回答按发生在当天的记录计。")
REPORT_HEAD = "台账链头（当日结束时）"
REPORT_HEAD_VALUE = "第 {seq} 条 {hash}"
REPORT_HEAD_NONE = "本班台账当日结束时还没有记录"
REPORT_HEAD_SIGNATURE = "链头签名"
REPORT_HEAD_SIGNED = "密钥 {key}，{at:%Y-%m-%d %H:%M} UTC 签署：{signature}"
REPORT_HEAD_UNSIGNED = "未签名（发送日报或写工作簿的机器上没有台账签名密钥）"
REPORT_NOTE_HEADS = ("台账链头：每个班的工作表写明该班台账链在当日结束时的链头及其 Ed25519 签名，请保存本工作簿，日后可用 "
                     "dingclass verify --anchor 核对这些链头仍在台账上、未被改写。")
REPORT_PUBLIC_KEYS = "台账签名公钥：{keys}"
REPORT_MD_HEAD = "- 台账链头（当日结束时）：第 {seq} 条 {hash}，{signed}"
REPORT_MD_SIGNED = "已签名（密钥 {key}，签名见工作簿）"
REPORT_EMPTY_SHEET = "日报"
REPORT_EMPTY = "{day:%Y-%m-%d} 没有培训班上课"
REPORT_MORE = " 等 {count} 人"
REPORT_MD_TITLE = "### {district} {day} 线上培训日报"
REPORT_MD_TOTALS = "培训班 {classes} 个，学员 {trainees} 人：签到 {checked_in}，照片 {photos}，学习时长达标 {day_ok}"
REPORT_MD_CLASS = ("**{code}**：学员 {trainees}，达标 {day_ok}；作业 布置 {posted}、交 {submitted}、批改 {checked}；"
                   "答疑 {qa} 场，提问 {questions}、回答 {answered}；抽查 {spot}/{spot_required}")
REPORT_MD_SHORT = "- 未达标 {count} 人：{names}"
REPORT_MD_FLAGGED = "- 待审照片 {count} 张"
REPORT_MD_SPOT_MISSING = "- 抽查不足：{done}/{required}"
REPORT_WRITTEN = "已写入 {path}：{day:%Y-%m-%d}，旗县区 {districts} 个，培训班 {classes} 个，学员 {trainees} 人。"
REPORT_MD_HEADLINE = "{district} {day:%m-%d} 培训日报"
REPORT_FILE_NAME = "日报-{district}-{day:%Y-%m-%d}.xlsx"
SUPERVISION_USAGE = "请在旗县区督查群里 @我 发送“绑定督查群 旗县区名称”。"
SUPERVISION_CLASS_GROUP = "这是一个班级群，不能绑定为督查群。"
SUPERVISION_NOT_YOURS = "你不是“{name}”的督查人员，不能为它绑定督查群。"
SUPERVISION_ALREADY = "本群已是“{name}”的督查群。"
SUPERVISION_BOUND = "本群已绑定为“{name}”的督查群（{at:%m-%d %H:%M}）：每天早上在此发送前一天的培训日报。"
REPORT_SENT = ("{day:%Y-%m-%d} 的日报：{sent} 个旗县区已排入发送（机器人运行时发出：督查群与督查人员单聊各一条摘要和一份工作簿），"
               "{already} 个此前已发送。")
REPORT_UNREACHABLE = "没有接收人、未发送的旗县区（请督查人员在督查群里发送“绑定督查群 旗县区”）：{names}"

# --- Printed registers (handlers/sheets.py) ----------------------------------------------------------
SHEET_FACT_LABELS = {
    "code": "班级编号",
    "occupation": "职业（工种）",
    "institution": "培训机构",
    "district": "旗县区",
    "dates": "培训日期",
    "online_hours": "线上课时",
    "class_teacher": "班主任",
    "teachers": "授课讲师",
}
SHEET_DATES = "{start:%Y-%m-%d} 至 {end:%Y-%m-%d}"
SHEET_ONLINE_HOURS = "{hours} 课时（每课时 {minutes} 分钟）"
SHEET_LIST_SEPARATOR = "、"
SHEET_TITLE = "{klass} {sheet}"
SHEET_REMOVED_SUFFIX = "（已删除）"
SHEET_TOTAL = "合计"
SHEET_PEOPLE = "{count} 人"
SHEET_YES = "是"
SHEET_NO = "否"
SHEET_PRINTED_AT = "导出时间：{at:%Y-%m-%d %H:%M}"
ATTENDANCE_SHEET_NAME = "考勤台账"
ATTENDANCE_MARK_LATE = "迟"
ATTENDANCE_MARK_EARLY = "早"
QUALIFICATION_SHEET_NAME = "合格名单"
QUALIFICATION_HEAD = ("序号", "姓名", "身份证号", "身份类别", "已学课时", "应学课时",
                      "完成比例", "是否合格", "是否删除", "删除原因")
QUALIFIED_YES = "合格"
QUALIFIED_NO = "不合格"
QUALIFICATION_TOTAL_QUALIFIED = "合格 {count} 人"
QUALIFICATION_TOTAL_REMOVED = "删除 {count} 人"
QUALIFICATION_STANDARD_LABEL = "合格标准"
QUALIFICATION_STANDARD = "线上学习时长达到应学课时的 {percent}%（R16）"
QUALIFICATION_ELIGIBILITY_LABEL = "补贴资格"
QUALIFICATION_NOT_APPROVED = "未经审核，不计入补贴（R02）"
QUALIFICATION_COUNTING = "已审核/已备案，计入补贴"
QUALIFICATION_NOTE = ("说明：已学课时 = 各培训日线上学习分钟数（直播加回看；不同场次相加，同一场次多个来源取最大值）之和 ÷ 每课时分钟数，"
                      "保留一位小数（截断）；完成比例 = 已学课时 ÷ 应学课时。")

# --- Ledger verification findings (R17, storage/ledger_verify.py codes) -------------------------------------
LEDGER_FINDINGS = {
    "checkpoint_lost": "签名检查点记载的事件已不在链上（台账末尾被截断）",
    "checkpoint_rewritten": "事件与签名检查点记载的哈希不符（链被改写并重新计算了哈希）",
    "unknown_key": "检查点由未知密钥 {key_id} 签名",
    "bad_signature": "检查点的签名不符（链头被改写后无法用台账密钥重新签名）",
    "head_mismatch": "链头记录与最后一个事件不符（事件 {seq} 条），台账末尾可能被删除",
    "seq_gap": "事件序号不连续：应为 #{expected}，实为 #{found}（有事件被删除或插入）",
    "prev_hash": "前一事件的哈希不符（链被改动）",
    "event_hash": "事件内容与其哈希不符（事件被改动）",
    "chain_emptied": "链头记载 {seq} 个事件，但链上没有事件（台账被删除）",
    "row_deleted": "台账记载的此行已不存在（被直接删除）",
    "row_not_deleted": "台账记载此行已删除，但它仍存在",
    "row_changed": "此行被改动：{changes}",
    "row_inserted": "此行没有对应的台账事件（被直接插入）",
    "anchor_signature": "存证文件中的链头签名不符",
    "anchor_lost": "存证的链头已不在链上（台账末尾被截断）",
    "anchor_rewritten": "链上此事件与存证的链头哈希不符（台账被改写）",
}
LEDGER_CHANGE = "{column} 台账为 {recorded!r}，现为 {now!r}"
LEDGER_CHANGE_SEPARATOR = "；"
LEDGER_CITY_CHAIN = "全市"
LEDGER_ROW = " 第 {row_id} 行"
LEDGER_CHAIN = "{name} 链"
LEDGER_EVENT_REF = "（台账{chain}事件 #{seq}）"
LEDGER_CHAIN_REF = "（{chain}）"
LEDGER_PROBLEM = "{where}{ref}：{detail}"


# --- The weekly 考勤台账 (handlers/sheets.py: attendance_sheets) ------------------------------------
WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
ATTENDANCE_WEEK_SHEET = "第{number}周"
ATTENDANCE_WEEK_TITLE = "{klass} 考勤台账（第{number}周：{first:%m-%d} 至 {last:%m-%d}）"
ATTENDANCE_WEEK_LABEL = "本周培训日"
ATTENDANCE_WEEK = "{first:%Y-%m-%d} 至 {last:%Y-%m-%d}，{days} 天（全期第 {start}–{end} 天，共 {total} 天）"
ATTENDANCE_NUMBER_HEAD = "序号"
ATTENDANCE_NAME_HEAD = "姓名\n身份证号"
ATTENDANCE_DAY_HEAD = "{day:%m-%d} {weekday}"
ATTENDANCE_PUNCH_HEAD = "{session}{kind}"
ATTENDANCE_MINUTES_HEAD = "学习\n分钟"
ATTENDANCE_PHOTO_HEAD = "照片"
ATTENDANCE_WEEK_TOTALS = "本周合计"
ATTENDANCE_TOTALS_HEADS = ("签到/\n签退", "迟到/\n早退", "学习\n分钟", "照片\n天数", "请假\n天数")
ATTENDANCE_PAIR = "{first}/{second}"
ATTENDANCE_MISSING = "—"
ATTENDANCE_LEAVE = "请假"
ATTENDANCE_PHOTO_MARK = "✓"
ATTENDANCE_DAY_TOTAL = "签到 {ins}\n签退 {outs}"
SHEET_TOTAL_PEOPLE = "合计\n{count} 人"
ATTENDANCE_NOTE = ("说明：只列计入补贴的考勤（班级审核通过后的签到签退，R02），时间为北京时间；考勤格内自上而下依次为表头所列各时段的签到、"
                        "签退时间，“迟”为迟到，“早”为早退，“—”为未打卡，“请假”为已批准请假（R07）；学习分钟为当日线上学习时长（R09）；"
                        "“✓”为当日有有效照片（R08）。")
REGISTER_SIGNATURES = (
    "班主任（签字）：______________________        日期：________年____月____日",
    "培训机构（盖章）：______________________        负责人（签字）：________________        日期：________年____月____日",
)
PDF_PAGE = "第 {page} 页，共 {pages} 页"
ATTENDANCE_SESSION_WIDEST = "上午"  # a session name this long fits the punch column's header on one line
ATTENDANCE_FORMATS = {"xlsx": "xlsx，每周一个工作表", "pdf": "PDF 打印版"}
ATTENDANCE_WRITTEN = "已写入 {path}：班级 {code} 的考勤台账（{format}），共 {weeks} 周；身份证号已部分隐藏。"
ATTENDANCE_NO_DAYS = "班级 {code} 的课程表中没有培训日，没有考勤台账。"

# --- R18 archive (一班一卷) ---------------------------------------------------------------------------
ARCHIVE_KINDS = {
    "plan": "培训计划、课程表、审核记录与承诺书",
    "roster": "实名制花名册",
    "messages": "机器人收到的群消息与发出的回复",
    "photos": "学习照片（按内容哈希保存原件）",
    "punches": "签到签退",
    "leave": "请假",
    "minutes": "学习时长与导入文件",
    "homework": "作业、提交、批改与附件",
    "qa": "答疑、提问与回答",
    "spot_checks": "抽查",
    "rollcalls": "随机点名（含种子与花名册快照）",
    "inspections": "检查与证据截图",
    "eligibility": "补贴资格变更与学员标记",
    "ledger": "本班台账事件（含链接）",
    "workbooks": "考勤台账与合格名单",
    "certificates": "结业证书编号（R20）",
}
ARCHIVE_LIMITS = (
    "钉钉机器人只能收到 @ 它的群消息：群里没有 @机器人 的消息从未被收到，不在本归档中。",
    "本归档包含机器人在本班群里收到和发出的全部消息、作为本班记录来源的单聊消息（如单聊发来的学习照片）、全部记录、照片和导入文件；"
    "与本班记录无关的单聊消息和机器人单聊发给个人的提醒、回复不在其中；发出的消息不是台账事实，只由清单中的校验和保护。",
    "学员身份信息（persons）、单聊消息、检查证据、点名抽取名单与学员标记记在全市台账链上：归档带有它们各自最后一个台账事件（逐条核对哈希），不是一段连续的链。",
    "花名册与导入文件含完整身份证号，请按个人信息保管归档。",
)
ARCHIVE_PRESENT = {True: "有", False: "尚未实现（缺）"}
ARCHIVE_TITLE = "{code} {name} 归档（一班一卷）"
ARCHIVE_FACT_LABELS = {"code": "班级编号", "name": "班级名称", "occupation": "职业（工种）", "institution": "培训机构",
                       "district": "旗县区", "start_date": "开始日期", "end_date": "结束日期", "status": "状态"}
ARCHIVE_NONE_MISSING_HTML = "<li>无</li>"
ARCHIVE_INDEX = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>
<style>
body{{font-family:sans-serif;margin:2em;color:#222}} table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #bbb;padding:4px 8px;text-align:left;vertical-align:top}} code{{font-size:85%}}
.photos img{{width:160px;height:120px;object-fit:cover;margin:3px;border:1px solid #ccc}}
</style></head><body>
<h1>{title}</h1>
<p>本页可离线浏览（解压后用浏览器打开 index.html）。每个文件的 SHA-256 与大小见 manifest.json；用
<code>dingclass verify 归档.zip</code> 离线校验校验和、台账链以及记录与台账是否一致。</p>
<h2>班级</h2><table>{facts}</table>
<h2>内容</h2><table><tr><th>类别</th><th>状态</th><th>行数/文件数</th><th>文件</th></tr>{kinds}</table>
<h2>局限</h2><ul>{limits}</ul>
<h2>记录中提到但文件存储里没有的文件</h2><ul>{missing}</ul>
<h2>全部文件</h2><table><tr><th>文件</th><th>字节</th><th>SHA-256</th></tr>{files}</table>
<h2>照片</h2><div class="photos">{photos}</div>
</body></html>
"""
ARCHIVE_SUPERSEDED = "已有更新的归档，这次上传不再进行"
