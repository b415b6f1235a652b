"""Supervision and teaching: roll calls (R13), eligibility and marks (R15), inspections (R14), reminders (R21), homework, Q&A and spot checks (R10).

A flat module of constants and ``str.format`` templates, grouped by feature; identifiers English, text Chinese.
"""

# --- Roll calls (R13, handlers/rollcall.py) -----------------------------------------------------------
ROLLCALL_USAGE = "请发送：点名 [比例%] [时限分钟]（例如：点名 50% 10）；单聊中发送：点名 班级编号 [比例%] [时限分钟]。"
ROLLCALL_BAD_RATIO = "抽查比例“{value}”不对：应为 1% 到 100% 之间，如 50%。"
ROLLCALL_BAD_MINUTES = "应答时限“{value}”不对：应为 1 到 {limit} 之间的分钟数。"
ROLLCALL_NOT_APPROVED = "班级 {code} 尚未通过旗县区审核，不进行点名。"
ROLLCALL_NO_GROUP = "班级 {code} 还没有绑定班级群，无法在群里点名。"
ROLLCALL_NO_TRAINEES = "班级 {code} 的花名册中没有在册学员，无法点名。"
ROLLCALL_OPEN = "班级 {code} 的第 {number} 次点名正在进行，{deadline:%H:%M} 截止；截止后才能再次点名。"
ROLLCALL_RAISED = "抽查比例 {asked} 低于政策要求的 {minimum}，已按 {minimum} 抽取。"
ROLLCALL_TRIGGERS = {"command": "督查人员", "schedule": "定时", "cli": "命令行", "admin": "管理后台"}
ROLLCALL_ANNOUNCE = ("【随机点名】班级 {code} 第 {number} 次点名（{by}发起）：从 {roster} 名在册学员中抽取 {size} 人"
                     "（{percent}）。请以下学员在 {deadline:%H:%M} 前在群里 @我 回复“到”：\n{names}")
ROLLCALL_NAME_LINE = "{position}. {name}{mention}"
ROLLCALL_EXCUSED_MARK = "（已准假，免答）"
ROLLCALL_GROUP_ONLY = "\n以下学员不在本组织内，机器人无法单独通知，请留意本群消息：{names}"
ROLLCALL_NO_AT = "\n（本通知经开放接口发到群里，无法 @ 提醒，请被点到的学员留意。）"
ROLLCALL_COMMITMENT = "\n种子承诺（SHA-256）：{commitment}\n点名结束后公布种子，任何人可按 README 的算法复核抽取名单。"
ROLLCALL_NOTICE = "你被抽中班级 {code} 第 {number} 次随机点名，请在 {deadline:%H:%M} 前在班级群里 @我 回复“到”。"
ROLLCALL_STARTED = "已发起班级 {code} 第 {number} 次点名：抽取 {size}/{roster} 人，{deadline:%H:%M} 截止，结果将发到班级群。"
ANSWER_NO_ROLLCALL = "现在没有进行中的点名，无需回复“到”。"
ANSWER_LATE = "第 {number} 次点名已于 {deadline:%H:%M} 截止，{at:%H:%M} 的“到”不计入。"
ANSWER_NOT_SAMPLED = "你不在第 {number} 次点名的抽查名单中，无需回复。"
ANSWER_TWICE = "你已于 {at:%H:%M} 应答第 {number} 次点名，不重复记录。"
ANSWER_EXCUSED = "你今天已准假，第 {number} 次点名免答，不记录。"
ANSWERED = "已记录：{name} {at:%H:%M} 应答第 {number} 次点名。"
ROLLCALL_NONE = "班级 {code} 还没有点过名。"
ROLLCALL_NO_SUCH = "班级 {code} 没有第 {number} 次点名。"
ROLLCALL_RESULT = ("【点名结果】班级 {code} 第 {number} 次点名（{started:%m-%d %H:%M}，{by}发起）：抽取 {size} 人，"
                   "应答 {answered}/{counted}，应答率 {percent}，{verdict}（要求 {threshold}）。")
ROLLCALL_RUNNING = ("【点名进行中】班级 {code} 第 {number} 次点名（{started:%m-%d %H:%M}）：抽取 {size} 人，"
                    "已应答 {answered}，{deadline:%H:%M} 截止。")
ROLLCALL_PASSED = {True: "合格", False: "不合格"}
ROLLCALL_ANSWERED_LINE = "已应答：{names}"
ROLLCALL_MISSING_LINE = "未应答：{names}"
ROLLCALL_EXCUSED_LINE = "已准假（不计入）：{names}"
ROLLCALL_SEED_LINE = "种子：{seed}（承诺 {commitment}）"
NOBODY = "无"

# --- Eligibility and marks (R15, handlers/eligibility.py) ---------------------------------------------
INELIGIBLE_REASON = "{count} 次监督检查（点名或检查）达标率低于 {threshold}：{checks}"
INELIGIBLE_CHECK_ROLLCALL = "第 {number} 次点名 {percent}"
INELIGIBLE_CHECK_INSPECTION = "{at:%m-%d} {kind}检查 {percent}"
INELIGIBLE_NOTICE = "【补贴资格】班级 {code} 已失去补贴资格：{reason}（R15）。"
ELIGIBLE_LABEL = {True: "有补贴资格", False: "已失去补贴资格"}
MARK_KINDS = {"disqualified": "数据异常，取消资格", "ineligible": "不符合培训条件"}
MARK_NO_REASON = "请写明理由（--reason）。"
MARK_NO_TRAINEE = "班级 {code} 的花名册中没有名为“{name}”的学员。"
MARK_SEVERAL = "班级 {code} 中有 {count} 名学员叫“{name}”，请在管理后台的学员页上操作。"
MARK_EXISTS = "{name} 已于 {at:%Y-%m-%d} 被标记为“{kind}”，不重复标记。"
MARKED = "已标记 {code} 的 {name}：{kind}（理由：{reason}），记入台账。"
ROLLCALL_RESULT_USAGE = "请发送：点名结果 [编号]（例如：点名结果 3）。"

# --- Inspections (R14, handlers/inspection.py) --------------------------------------------------------
INSPECTION_KINDS = {"video": "视频", "live": "直播统计", "phone": "电话"}
INSPECTION_KIND_WORDS = {"视频": "video", "直播": "live", "直播统计": "live", "电话": "phone"}
INSPECTION_LEVELS = {"city": "市", "district": "旗县区"}
INSPECTION_USAGE = "请发送：检查 班级编号 视频|直播|电话 应到人数 实到人数（例如：检查 BT-2026-001 视频 30 27）。"
INSPECTION_BAD_KIND = "检查方式“{value}”不对：应为 视频、直播 或 电话。"
INSPECTION_BAD_COUNTS = "人数不对：应到 {expected}、实到 {found}；应到须大于 0，实到不能超过应到。"
INSPECTION_PHONE_TOO_FEW = "电话抽查至少要抽 {minimum} 人（在册 {roster} 人的 {share}），本次只有 {expected} 人。"
INSPECTION_RECORDED = ("已记录{level}对班级 {code} 的{kind}检查（{at:%m-%d %H:%M}）：应到 {expected}，实到 {found}，"
                       "{percent}，{verdict}（要求 {threshold}）。")
INSPECTION_EVIDENCE_HINT = "请在 {minutes} 分钟内把截图发给我，作为本次检查的证据。"
INSPECTION_EVIDENCE_SAVED = "已保存检查截图，第 {number} 号检查（班级 {code}）共 {count} 张。"

# --- Reminders (R21, handlers/reminders.py) -----------------------------------------------------------
REMIND_CHECKIN = "【签到提醒】{session} {start:%H:%M} 开始，签到时间 {opens:%H:%M}–{closes:%H:%M}，请在群里 @我 发送“签到”。"
REMIND_SHORT_DAY = "【学习提醒】{name}，你今天（{day}）还有未完成的项目：{missing}。请今天补上{replay}。"
REMIND_REPLAY = "（缺的课时可看回放补学）"
REMIND_MISSING = {"checkin": "签到（{sessions}）", "photo": "学习照片", "minutes": "学习时长（已记 {minutes} 分钟，达标需 {threshold} 分钟）"}
REMIND_SPOT_CHECKS = ("【抽查提醒】{name}，{code} 今天（{day}）已抽查 {done} 次，每天应 {required} 次；今天的上课时间 {ends:%H:%M} "
                      "结束，请在此之前在班级群里 @我 发送“抽查 情况”并附截图。")
REMIND_MAKEUP = "【补学提醒】{name}，你今天（{day}）请假了。缺的课时请看回放补上：当天或线上培训结束后补学的时长计入当天。"
INSPECTION_EVIDENCE_TOO_LATE = "没有 {minutes} 分钟内记录的检查，这张图片已保存，但没有作为检查证据。"

# --- Homework (R10, handlers/homework.py) ------------------------------------------------------------
WITH_PICTURES = "（附图 {count} 张）"
HOMEWORK_POST_USAGE = "请发送“布置作业 内容 [截止 18:00]”或“布置作业 内容 截止 2026-12-03 18:00”。"
HOMEWORK_BAD_DUE = "截止时间没有看懂：请写“截止 18:00”或“截止 2026-12-03 18:00”。作业未布置。"
HOMEWORK_DUE_PAST = "截止时间 {due:%m-%d %H:%M} 已经过了，作业未布置。"
HOMEWORK_POSTED = ("第 {number} 号作业已布置（{by}，{at:%H:%M}）{pictures}：{content}\n{due}\n"
                   "学员请 @我 发送“交作业 {number} 内容”，可附图片；单聊中发送“交作业 {number}”后10分钟内的图片也算。")
HOMEWORK_DUE = "截止 {due:%m-%d %H:%M}"
HOMEWORK_NO_DUE = "不限截止时间"
HOMEWORK_NONE_POSTED = "本班还没有布置作业。"
HOMEWORK_ALL_HANDED_IN = "本班布置的作业你都已交过；要交某一份，请写上编号：“交作业 编号 内容”。"
HOMEWORK_ALREADY_HANDED_IN = "第 {number} 号作业你已在 {at:%m-%d %H:%M} 交过，不再重复记录。"
HOMEWORK_SUBMIT_USAGE = "请发送“交作业 [编号] 内容”，可附图片。"
HOMEWORK_SUBMITTED = "{name}的第 {number} 号作业已收到（{at:%H:%M}）{late}{pictures}。"
HOMEWORK_LATE = "，已过截止时间，记为迟交"
HOMEWORK_FOLLOW_UP = "\n{minutes}分钟内在这里发送的图片和文件都算这份作业（{minutes}分钟后发送的图片算每日学习照片）。"
HOMEWORK_CHECK_USAGE = "请发送“批改 作业编号 学员姓名 评语 [分数]”，如“批改 1 张三 步骤完整 90”。"
HOMEWORK_BAD_SCORE = "分数 {score} 超出范围（0到{top}），未记录。"
HOMEWORK_NO_SUCH = "班级 {code} 没有第 {number} 号作业。"
HOMEWORK_NOT_HANDED_IN = "{name}还没有交第 {number} 号作业（或姓名不在本班花名册中），未记录批改。"
HOMEWORK_NAME_AMBIGUOUS = "本班有不止一名学员叫“{name}”，请在管理后台批改。"
HOMEWORK_CHECKED = "已批改第 {number} 号作业：{name}，{comment}{score}（{at:%H:%M}）"
HOMEWORK_SCORE = "，{score} 分"
HOMEWORK_LIST_EMPTY = "班级 {code} 还没有布置作业。"
HOMEWORK_LIST_HEADER = "班级 {code} 的作业 {count} 份（编号. 内容 截止：已交/人数，迟交，已批改）："
HOMEWORK_LIST_LINE = "{number}. {content}{due}：已交 {submitted}/{roster}，迟交 {late}，已批改 {checked}"
HOMEWORK_OWED = "待交：第 {number} 号 {content}{state}"
HOMEWORK_OWED_OVERDUE = "（已过截止 {due:%m-%d %H:%M}，仍可补交，记为迟交）"
HOMEWORK_NOTHING_OWED = "你没有待交的作业。"

# --- Q&A (R10, handlers/qa.py) -----------------------------------------------------------------------
QA_ALREADY_OPEN = "第 {number} 次答疑（{at:%H:%M} 开始）还没有结束。"
QA_OPENED = "第 {number} 次答疑{topic}开始（{at:%H:%M}）。学员请 @我 发送“提问 问题”，教师用“答 编号 回答”回答。"
QA_CARRIED = "此前留下的问题 {count} 个："
QA_QUESTION_LINE = "{number}. {content}"
QA_NONE_OPEN = "现在没有进行中的答疑。"
QA_CHECKIN_OPEN = ("本次答疑是今天{session}的签到签退时段：请在 {closes:%H:%M} 前 @我 发送“签到”（答疑开始后签到记为迟到），"
                   "答疑结束后 {minutes} 分钟内发送“签退”。")
QA_NOT_A_CHECKIN_SESSION = "本次答疑不计签到签退：今天没有课，或今天的答疑时段都已有答疑。"
QA_CHECKOUT_OPEN = "\n请在 {closes:%H:%M} 前 @我 发送“签退”。"
QA_CLOSED = "第 {number} 次答疑结束（{at:%H:%M}）：提问 {questions} 个，已回答 {answered} 个。"
QA_UNANSWERED = "未回答的问题编号：{numbers}。"
QA_ASK_USAGE = "请发送“提问 问题内容”。"
QA_ASKED = "问题已记录，编号 {number}（{at:%H:%M}）。"
QA_KEPT_FOR_NEXT = "现在不在答疑时间，问题会留到下次答疑。"
QA_ANSWER_USAGE = "请发送“答 问题编号 回答内容”。"
QA_NO_SUCH = "本班没有编号为 {number} 的问题。"
QA_ANSWERED = "{mention}问题 {number}「{question}」的回答（{by}，{at:%H:%M}）：{answer}"

# --- Spot checks (R10, handlers/spot_checks.py) ------------------------------------------------------
SPOT_CHECK_USAGE = "请发送“抽查 情况”并附截图，如“抽查 在线28人，2人未开摄像头”。"
SPOT_CHECK_RECORDED = "已记录今天第 {count} 次抽查（每天应 {required} 次，{at:%H:%M}）{pictures}：{note}"
HOMEWORK_ATTACHED = "已收到第 {number} 号作业的附件 {count} 个（{at:%H:%M}）。"
HOMEWORK_ATTACHED_FILE = "文件：{name}"
FILE_NOT_EXPECTED = ("收到文件“{name}”，但没有记录：文件只在单聊中发送“交作业”后 {minutes} 分钟内作为作业附件收下。"
                     "请先发送“交作业 [编号] 内容”，再发文件。")
FILE_UNNAMED = "（无文件名）"
