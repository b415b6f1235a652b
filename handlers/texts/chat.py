"""The trainees' and staff's chat: dispatch and help, attendance (R06), days, binding and unbinding, leave (R07), the daily photo (R08), study minutes (R09, R12, R16), 我的 and 统计.

A flat module of constants and ``str.format`` templates, grouped by feature; identifiers English, text Chinese.
"""

# --- Chat: dispatch and help (handlers/dispatch.py, handlers/help.py) ----------------------------
SORRY = "抱歉，处理这条消息时出了问题，已记录下来，请稍后再试。"
UNSUPPORTED_MESSAGE = "暂不支持这种消息。请发送文字命令或图片；发送“帮助”查看可用命令。"
UNKNOWN_COMMAND = "没有看懂“{text}”。发送“帮助”查看你可以使用的命令。"
PICTURE_RECEIVED = "已收到图片。"
ONLY_IN_GROUP = "“{word}”请在班级群里 @我 发送。"
ONLY_IN_PRIVATE = "“{word}”请在与我的单聊中发送，不要在群里发（避免泄露个人信息）。"
NOT_BOUND = "你还没有绑定身份。请在与我的单聊中发送：绑定 姓名 身份证号后6位（工作人员发送：绑定 绑定码）。"
GROUP_NOT_BOUND = "本群还没有绑定班级。请班主任或督查人员在群里 @我 发送：绑定班级 班级编号"
NOT_IN_THIS_CLASS = "你不在本班的花名册中，请在自己班级的群里发送。"
ROLE_REQUIRED = "“{word}”只有{roles}可以使用。"
ROLE_NAMES = {"anyone": "所有人", "trainee": "本班学员", "teacher": "授课教师", "class_teacher": "班主任",
              "inspector": "督查人员", "scheduler": "定时任务"}
HELP_HEADER = "你可以使用的命令："

# --- Attendance (R06, handlers/attendance.py) -----------------------------------------------------
PUNCH_NAMES = {"in": "签到", "out": "签退"}
NOT_A_CLASS_DAY = "今天不是本班的培训日（培训日期 {start} 至 {end}，课程表中的休息日除外）。"
OUTSIDE_WINDOW = "现在不在{kind}时间内。{kind}时间：{spans}。"
ALREADY_PUNCHED = "今天{session}已{kind}（{at:%H:%M}），不重复记录。"
PUNCHED = "{kind}成功 {at:%H:%M}（{session}）"
LATE = "，迟到（{due:%H:%M} 开始）"
EARLY = "，早退（{due:%H:%M} 结束）"
EARLY_QA_RUNNING = "，早退（答疑还没结束）"
QA_PUNCH_SESSION = "{session}·第 {number} 次答疑"
NOT_COUNTED_YET = "。注意：本班尚未通过旗县区审核，记录已保存，但暂不计入补贴。"

# --- Days in the chat (handlers/dates.py) ---------------------------------------------------------
RELATIVE_DAYS = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2}
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
DAY = "{month}月{day}日（{weekday}）"
WHICH_CLASS = "请在班级群里 @我 发送“{word}”，或在单聊中发送“{word} 班级编号”。"

# --- Binding (handlers/binding.py) ----------------------------------------------------------------
BIND_USAGE = "请发送：绑定 姓名 身份证号后6位（例如：绑定 张三 12345X）。工作人员请发送：绑定 绑定码。"
BIND_LOCKED = "绑定失败次数过多，已暂停绑定，请在 {until:%H:%M} 以后再试；如有疑问请联系班主任。"
BIND_NOW_LOCKED = "\n失败次数过多，绑定已暂停到 {until:%H:%M}。"
BIND_NO_MATCH = ("没有找到可以绑定的学员“{name}”：姓名或身份证号后6位不符，或该学员已绑定了钉钉账号"
                 "（只查找正在培训或 {days} 天内开班的班级）。请核对后重试；仍不成功请联系班主任。")
BIND_NAME_LOCKED = "用这个姓名绑定的失败次数过多，该姓名的绑定已暂停到 {until:%H:%M}。如是本人，请联系班主任核实身份。"
BIND_NAME_LOCKED_NOTICE = ("安全提醒：{minutes} 分钟内有人用学员“{name}”的姓名尝试绑定失败 {count} 次（来自 {senders} 个钉钉账号），"
                           "该学员的绑定已暂停到 {until:%m月%d日 %H:%M}。如是学员本人，请核实身份后协助绑定；"
                           "如该学员已绑定的钉钉账号不是本人，请用“解绑”处理。")
BIND_SEVERAL = "姓名“{name}”和身份证号后6位对应了不止一名学员，无法自动绑定，请联系班主任处理。"
BIND_ALREADY_YOU = "你已经绑定为 {name}，无需重复绑定。"
BIND_ACCOUNT_TAKEN = "这个钉钉账号已经绑定为 {name}，不能再绑定其他学员。如绑定有误，请联系班主任。"
BIND_CLASS_LINE = "· {code}「{name}」（{start} 至 {end}）"
BIND_TRAINEE_DONE = ("绑定成功：{name}。你所在的班级：\n{classes}\n"
                     "请在班级群里 @我 签到、签退、请假、发学习照片；发送“我的”查看自己的记录。")
BIND_CODE_UNKNOWN = "绑定码不正确，请核对后重新发送（绑定码由管理员生成，形如 ABCD-EFGH）。"
BIND_CODE_USED = "这个绑定码已经使用过了，每个绑定码只能用一次。请向管理员申请新的绑定码。"
BIND_CODE_EXPIRED = "这个绑定码已于 {at:%Y-%m-%d %H:%M} 过期，请向管理员申请新的绑定码。"
UNNAMED_STAFF = "工作人员"
BIND_SCOPE_CLASS = "班级 {code}「{name}」"
BIND_SCOPE_DISTRICT = "{name}"
BIND_SCOPE_CITY = "全市"
BIND_STAFF_DONE = "绑定成功：{name}，{scope}的{role}。发送“帮助”查看你可以使用的命令。"
BIND_GROUP_USAGE = "请发送：绑定班级 班级编号（例如：绑定班级 BT-2026-001）。"
GROUP_ALREADY_THIS = "本群已绑定班级 {code}，无需重复绑定。"
GROUP_ALREADY_OTHER = "本群已绑定班级 {code}「{name}」，不能改绑其他班级；如绑定有误，请联系管理员。"
CLASS_HAS_GROUP = "班级 {code} 已绑定了另一个群（{title}），一个班级只能绑定一个班级群；如需更换，请联系管理员。"
GROUP_BOUND_DONE = ("本群已绑定班级 {code}「{name}」（{start} 至 {end}；每日时段：{sessions}）。\n"
                    "学员请先在与我的单聊中发送“绑定 姓名 身份证号后6位”，不要在群里发身份证号。")
GROUP_BOUND_NOT_APPROVED = "\n注意：本班尚未通过旗县区审核，签到等记录会保存，但暂不计入补贴。"

# --- Leave (R07, handlers/leave.py) ---------------------------------------------------------------
LEAVE_STATUS = {"pending": "待批准", "approved": "已批准", "rejected": "已驳回"}
LEAVE_DECISION_WORDS = {"approved": "准假", "rejected": "驳回"}
LEAVE_USAGE = "请发送：请假 [日期] 原因（例如：请假 明天 孩子生病；不写日期即为今天）。"
LEAVE_NOT_A_CLASS_DAY = "{day}不是本班的培训日（培训日期 {start} 至 {end}，课程表中的休息日除外），无需请假。"
LEAVE_PAST = "{day}已经过去，不能再请假。"
LEAVE_TOO_LATE = "{day}的请假须在 {deadline:%H:%M} 前提出（当天第一节课开始前），现在已经晚了，未记录。如有特殊情况请联系班主任。"
LEAVE_EXISTS = "你已为{day}请过假（编号 {number}，{status}），不重复记录。"
LEAVE_ALREADY_PUNCHED = "你{day}已经签到或签退过，不能再为这一天请假。"
LEAVE_REQUESTED = "已记录请假：{day}，原因：{reason}。编号 {number}，等待班主任批准。请假缺的课时，请当天或线上培训结束后看回放补上。"
LEAVE_DECIDE_USAGE = "请发送：{word} 编号（编号见“请假列表”）。"
LEAVE_NO_SUCH = "没有编号为 {number} 的本班请假申请，请发送“请假列表”查看。"
LEAVE_ALREADY_DECIDED = "编号 {number}（{name}，{day}）已于 {at:%m-%d %H:%M} {status}，不重复处理。"
LEAVE_DECIDED = "编号 {number}：{name} {day}的请假{status}（原因：{reason}）。"
LEAVE_DECISION_NOTE = "意见：{note}"
LEAVE_LINE = "{number}. {name} {day}：{reason}"
LEAVE_NONE_PENDING = "班级 {code} 没有待批准的请假。"
LEAVE_PENDING_HEADER = "班级 {code} 待批准的请假 {count} 条（编号. 姓名 日期：原因）："
LEAVE_PENDING_FOOTER = "回复“准假 编号”批准，或“驳回 编号 理由”驳回。"

# --- Daily photo (R08, handlers/photos.py) --------------------------------------------------------
PHOTO_NEEDS_PICTURE = "请把当天在线学习的照片作为图片发给我：在班级群里 @我 并附上图片，或在单聊中直接发送图片。"
PHOTO_COUNTED = "已收到今天的学习照片（{at:%H:%M}），已计入。"
PHOTO_RECORDED_NOT_APPROVED = "已收到今天的学习照片（{at:%H:%M}）。注意：本班尚未通过旗县区审核，记录已保存，但暂不计入补贴。"
PHOTO_SLOT_MOVED = "这张比之前计入的那张（{other:%H:%M} 发送）发得早，所以改计这张，那张保存为补充照片。"
PHOTO_DOWNLOAD_FAILED = "你 {at:%H:%M} 发来的图片没能下载下来，未记录，请重新发送这张图片。"
PHOTO_EXTRA = "今天的学习照片已经收到过了，这张（{at:%H:%M}）也已保存，但每天只计1张。"
PHOTO_NOT_A_CLASS_DAY = "今天不是本班的培训日，照片（{at:%H:%M}）已保存，但不计入。"
PHOTO_DUPLICATE = ("这张照片与之前收到过的照片相同或高度相似，已转人工审核，审核通过前不计入。"
                   "请拍一张今天在线学习的新照片发给我。")
PHOTO_INVALID = {
    "too_large": "图片太大（超过 20 MB），未记录。请直接拍照发送，不要发原图文件。",
    "not_an_image": "收到的文件不是图片，未记录。请发送当天在线学习的照片。",
    "unsupported_format": "不支持这种图片格式，未记录。请发送 JPG 或 PNG 照片。",
    "too_many_pixels": "图片尺寸过大，未记录。请直接拍照发送。",
    "too_small": "图片太小，看不清内容，未记录。请发送当天在线学习的照片。",
    "broken": "图片已损坏或不完整，未记录。请重新发送。",
}

# --- Study minutes and removal (R09, R12, R16, handlers/hours.py) ----------------------------------
HOURS_REJECTED = "学习时长未导入（{count} 处错误，整个文件都没有写入，请改正后重新导入）："
HOURS_ROW_ERROR = "第 {data_row} 行（表格第 {sheet_row} 行）{column}：{reason}"
HOURS_NO_HEADER = "前几行中找不到表头：需要列 姓名（或 钉钉用户ID、身份证号）、日期、直播时长、回看时长"
HOURS_MISSING_COLUMNS = "观看统计缺少列：{columns}"
HOURS_EMPTY = "表头下面没有任何数据"
HOURS_MISSING = "未填写"
HOURS_BAD_DAY = "不是有效日期（应如 2026-12-01），实际为“{value}”"
HOURS_DAY_OUTSIDE = "{day}不在培训期内（{start} 至 {end}）"
HOURS_LESSON_TOO_LONG = "场次不能超过 {limit} 个字"
HOURS_DAY_ALREADY_IMPORTED = (
    "班级 {code} 的学员在 {days} 已有另一个文件导入的学习时长，而这个文件没有“场次”列，无法判断是重复还是另外的课。"
    "请在文件中加上“场次”列（不同场次的时长相加，同一场次取较大者），或用 --replace 以这个文件替换这些学员这些日期原有的文件数据"
)
MINUTES_REPLACED = "以文件 {filename} 替换（--replace）"
HOURS_REST_DAY = "{day}是课程表中的休息日，不是培训日"
HOURS_BAD_MINUTES = "时长应为分钟数（如 90）或时:分:秒（如 1:30:00），实际为“{value}”"
HOURS_TOO_MANY = "{value} 分钟超过一天的 {limit} 分钟，不可能"
HOURS_DAY_TOTAL_COLUMN = "时长合计"
HOURS_DAY_TOO_MANY = "与第 {first} 行同一学员同一天的时长合计 {total} 分钟，超过一天的 {limit} 分钟，不可能"
HOURS_NOT_IN_ROSTER = "不在本班花名册中"
HOURS_UNKNOWN_USER = "钉钉用户 {value} 没有绑定本班学员；请补上姓名或身份证号"
HOURS_SAME_NAME = "本班有 {count} 名学员同名，请加一列“身份证号”或“钉钉用户ID”区分"
HOURS_ALREADY_IMPORTED = "这个文件已经导入过班级 {code}，不重复导入。"
HOURS_IMPORTED = "已向班级 {code} 导入学习时长 {rows} 条（{trainees} 名学员，{days} 天）。"
HOURS_IMPORTED_BELOW = "其中 {below} 条低于当日计划课时的 80%（每天至少 {threshold} 分钟，R09）。"
REMOVAL_TOO_EARLY = "班级 {code} 要到 {end} 才结束，结束后才能按 R16 标记不合格学员。"
REMOVAL_REASON = "线上学习 {earned} 课时，为应学 {required} 课时的 {percent}，未达到 {minimum}（R16）"

# --- 我的 (handlers/mine.py) -----------------------------------------------------------------------
MINE_HEADER = "{name}（{code}）{day}："
MINE_SESSION = "{session}：{parts}"
MINE_PUNCHED = "{kind} {at:%H:%M}{mark}"
MINE_NOT_PUNCHED = "未{kind}"
MINE_LATE = "（迟到）"
MINE_EARLY = "（早退）"
MINE_PHOTO_OK = "照片：已收到（{at:%H:%M}）"
MINE_PHOTO_FLAGGED = "照片：与之前的照片重复，等待人工审核，暂不计入"
MINE_PHOTO_REJECTED = "照片：未通过审核，请重新发送一张今天的学习照片"
MINE_PHOTO_NONE = "照片：今天还没有收到"
MINE_MINUTES = "今日学习时长：{minutes} 分钟（至少 {threshold} 分钟），{verdict}"
MINE_MINUTES_NONE = "今日学习时长：暂无数据（观看统计导入后可查；每天至少 {threshold} 分钟）"
MINE_DAY_OK = "已达标"
MINE_DAY_SHORT = "未达标"
MINE_NOT_A_CLASS_DAY = "今天不是培训日（培训日期 {start} 至 {end}，课程表中的休息日除外）。"
MINE_LEAVE = "请假：{day}，编号 {number}，{status}"
MINE_TOTAL = "累计：已学 {earned} 课时，应学 {required} 课时，完成 {percent}（合格需达到 {minimum}）"
MINE_NOT_APPROVED = "注意：本班尚未通过旗县区审核，记录已保存，但暂不计入补贴。"

# --- 统计 (handlers/stats.py) ----------------------------------------------------------------------
STATS_HEADER = "{code}「{name}」{day}统计（截至 {at:%H:%M}），学员 {count} 人："
STATS_SESSION = "{session}：签到 {checked_in} 人（迟到 {late}），签退 {checked_out} 人（早退 {early}）"
STATS_PHOTOS = "学习照片：{count} 人已交，{flagged} 张待审核"
STATS_LEAVE = "请假：{count} 人（已批准 {approved}，待批准 {pending}）"
STATS_MISSING = "{session}未{kind}（{count}）：{names}"
STATS_NO_PHOTO = "未交照片（{count}）：{names}"
STATS_ON_LEAVE = "已批准请假：{names}"
STATS_MORE = " 等 {count} 人"
STATS_PENDING_HEADER = "待批准的请假 {count} 条（编号. 姓名 日期：原因）："
STATS_NOT_APPROVED = "注意：本班尚未通过旗县区审核，以上记录暂不计入补贴。"

# --- Automatic changes to study minutes (R05: every change has its reason) -----------------------
MINUTES_REPULLED = "直播观看统计再次拉取，数值有更新（同一课程的后续统计，如补看回放）"
MINUTES_FROM_PUNCHES = "按当天签到签退重新计算课时（R12）"
HOURS_PULLED = "班级 {code}：写入或更新 {written} 条学习时长，{unchanged} 条无变化。"
HOURS_PULL_UNMATCHED = "花名册中找不到的观看者（{count}）：{names}"
HOURS_REMOVED_NONE = "班级 {code}：没有需要标记的学员。"
HOURS_REMOVED = "班级 {code}：{count} 名学员学习时长不足，已从补贴名单中标记移除（R16，记录保留）："

# --- unbinding (corrections of a binding made in error) -------------------------------------------
UNBIND_NEEDS_REASON = "解绑必须写明理由（会记入台账）"
UNBIND_NO_GROUP = "班级 {code} 没有绑定班级群"
UNBIND_NO_TRAINEE = "班级 {code} 的花名册中没有名为“{name}”的学员"
UNBIND_SEVERAL = "班级花名册中有 {count} 名学员都叫“{name}”，无法确定解绑哪一位，请在管理后台的学员页操作"
UNBIND_NOT_BOUND = "学员 {name} 没有绑定钉钉账号，无需解绑"
UNBIND_GROUP_NOTICE = ("本群与班级 {code}「{name}」的绑定已解除（理由：{reason}）。此后本群的签到等记录不再计入该班。"
                       "如需绑定正确的班级，请班主任或督查人员 @我 发送：绑定班级 班级编号")
UNBIND_PERSON_NOTICE = ("你的钉钉账号与学员 {name} 的绑定已解除（理由：{reason}）。"
                        "如果你就是 {name} 本人，请用本人的钉钉账号在与我的单聊中发送：绑定 姓名 身份证号后6位")
UNBIND_USAGE = "请发送：解绑 姓名 理由（例如：解绑 张三 用了家人的钉钉账号）"
UNBIND_DONE = "{at:%H:%M} 已解除学员 {name} 的钉钉绑定（记入台账）。请 {name} 本人用自己的钉钉账号在与我的单聊中发送：绑定 姓名 身份证号后6位。"
UNBIND_TELL_IN_PERSON = "原账号在组织外，钉钉不允许我主动单聊，请当面告知。"
DAY_DOES_NOT_EXIST = "日期不存在：{text}（请检查月份和日子，如 2026-02-28）"
