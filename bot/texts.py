"""Every Chinese line the command line prints, in one place."""

DATABASE_NOT_INITIALISED = "数据库还没有初始化（缺少数据表）：请先运行 dingclass init。"
DATABASE_BUSY = "数据库正忙（被其他操作锁住），这次操作没有完成，请稍后重试。"
DATABASE_UNREACHABLE = "无法连接数据库 {where}：请检查 DATABASE_URL 和数据库服务是否在运行。"
DATABASE_FAILED = "数据库出错，这次操作没有完成，没有写入任何数据；详细信息已写入数据目录下的 dingclass.log。"
DATABASE_URL_MALFORMED = "DATABASE_URL 格式不对：应形如 postgresql://用户@主机:5432/库名 或 sqlite:///文件路径。"
DATABASE_UNSUPPORTED = "DATABASE_URL 的数据库类型 {backend} 不受支持：只支持 SQLite 和 PostgreSQL。"
PORT_IN_USE = "端口已被其他程序占用，无法启动：请换一个端口（管理后台用环境变量 DINGCLASS_ADMIN_PORT，当前 {admin_port}；demo 和 simulate 用 --port）。"
NO_PERMISSION = "没有权限读写 {path}：请检查数据目录（DINGCLASS_DATA_DIR）的权限。"
DISK_FULL = "磁盘空间已满，这次操作没有完成。"
INTERNAL_ERROR = "内部错误，这次操作没有完成；详细信息已写入数据目录下的 dingclass.log。"
FILE_NOT_FOUND = "找不到文件：{path}"
FILE_UNREADABLE = "无法读取文件 {path}：{detail}"
CANNOT_WRITE = "无法写入文件 {path}：{detail}"
BAD_DATE = "日期“{value}”没有看懂，请写成 2026-12-01。"
PLAN_NOT_UTF8 = "培训计划文件 {path} 不是 UTF-8 编码的文本"

INIT_DONE = "数据库已就绪：{url}"
CLASS_CREATED = "已创建班级 {code}「{name}」，状态：已提交，待旗县区审核。"
NO_COMMITMENT = "注意：尚未上传承诺书（R01）。请在培训计划中用 commitment_file 指明签字的承诺书文件。"
ROSTER_IMPORTED = "已向班级 {code} 导入学员 {count} 人。"
ROSTER_REMOVED = "已把 {name} 移出班级 {code} 的花名册（记录保留，理由记入台账）。"
ROSTER_CHANGE_TO_NOTE = "班级已审核：这是花名册变更，待旗县区确认（dingclass roster note {code}）；新增的学员确认前不计入补贴（R02）。"
ROSTER_NOTED = "已确认班级 {code} 的 {count} 项花名册变更（操作人 {actor}）。"
ROSTER_ADD_ONLY_NOTE = "（已在本班花名册中的学员已跳过，没有重复导入）"
NO_CLASSES = "还没有班级。用 dingclass class create PLAN.toml 创建。"
CLASS_LIST_HEADER = "编号\t名称\t状态\t开班日期\t结束日期\t学员\t班级群"
CLASS_LIST_LINE = ("{line.code}\t{line.name}\t{status}\t{line.start_date}\t{line.end_date}\t"
                   "{line.trainees}\t{group}")
GROUP_BOUND = "已绑定"
GROUP_UNBOUND = "未绑定"
CLASS_STATUS_CHANGED = "班级 {code} 状态已改为：{status}（操作人 {actor}）。"
CHANGE_APPLIED = "班级 {code} 尚未审核：计划已按第 {number} 号变更更新，审核时按新计划检查（R01、R02）："
CHANGE_REQUESTED = "已提交班级 {code} 的第 {number} 号计划变更申请，自 {effective} 起生效，待旗县区同意（dingclass class change-approve {code}）："
CHANGE_DECIDED = "班级 {code} 的第 {number} 号计划变更：{status}（操作人 {actor}）。"
MARK_KIND_REQUIRED = "请指明标记的种类：--ineligible（不符合培训条件，R22）或 --disqualified（数据异常，R15）。"

USER_ADDED = "已添加用户 {name}（角色 {role}）。初始密码（只显示这一次）：{password}"
TEACHER_CLASSES = "教师 {name} 可查看的班级：{codes}"
NONE = "（无）"
BIND_CODE_ISSUED = "绑定码：{code}\n有效期至 {expires}，只能使用一次。请工作人员在与机器人的单聊中发送：绑定 {code}"

VERIFY_OK = ("台账完整：{chains} 条链共 {events} 个事件，所有记录与台账一致；核对了 {checkpoints} 个签名检查点"
             "（{keys}）。链头摘要 {head}")
VERIFY_FAILED = "台账校验发现 {count} 处问题（{chains} 条链共 {events} 个事件；{keys}）："
KEY_SOURCES = {
    "file": "公钥取自台账签名密钥文件",
    "anchor": "公钥取自存证文件",
    "database": "公钥取自数据库，未与库外保存的公钥核对",
    "none": "还没有签名检查点",
}
VERIFY_INCREMENTAL = "（增量校验：检查了上次校验并签署之后的 {walked} 个新事件及其记录；直接改动旧记录需全面校验才能发现。）"
KEY_CREATED = ("已创建台账签名密钥：{path}\n（只有本用户可读；不要放进数据目录或数据库备份，丢失后旧检查点仍可用公钥核验）\n"
               "公钥（请抄送旗县区、市监督部门，核验时使用）：{public}（编号 {key_id}）")
KEY_IN_USE = "台账签名密钥：{path}\n公钥：{public}（编号 {key_id}）"
LEDGER_KEY_MISSING = "找不到台账签名密钥 {path}：请先运行 dingclass init 创建，或用 DINGCLASS_LEDGER_KEY 指向它。"
LEDGER_KEY_BAD = "台账签名密钥无法使用：{detail}"
VERIFY_ARCHIVE_OPTIONS = "校验归档 zip 时不能用 --incremental 或 --workers：归档在本机离线逐个文件校验。"
ANCHOR_BAD = "存证文件 {path} 不是有效的链头存证：{detail}"
CHECKPOINTS_SIGNED = "已签署 {count} 个检查点（有新事件的链）。"
HEADS_WRITTEN = "已写出 {count} 条链的签名链头：{path}"

DEMO_INTRO = "演示数据目录：{data_dir}"
DEMO_STEP = "· {step}"
DEMO_TRANSCRIPT = "机器人共发出 {count} 条消息，摘录："
DEMO_READY = ("\n管理后台：{url}\n登录：用户名 admin，密码 {password}\n"
              "（演示中的时间是模拟的“今天”；数据在数据目录的 demo 子目录中，每次运行 demo 都会重建。）")
DEMO_WAIT = "按 Ctrl-C 结束演示。"
DEMO_CHAT = "\n聊天页面：{url}\n（选一个学员、班主任或新建用户，在班级群或单聊中给机器人发消息，就像在钉钉里一样）"
DEMO_STOPPED = "\n演示已结束（--no-wait），机器人、模拟钉钉和管理后台都已停止；数据库保留在 {data_dir}。"
SIMULATOR_READY = """# 本地模拟钉钉已启动。在另一个终端里执行下面几行，再运行 dingclass run：
export DINGTALK_OPENAPI_ENDPOINT={endpoint}
export DINGTALK_CLIENT_ID={client_id}
export DINGTALK_CLIENT_SECRET={client_secret}
export DINGTALK_ROBOT_CODE={robot_code}
# 聊天页面（以任一模拟用户的身份给机器人发消息）：{chat}
# 按 Ctrl-C 停止。"""

SCHEDULER_RUNNING = "调度器已启动：{jobs} 个定时任务（dingclass jobs list 查看）。"
ADMIN_RUNNING = "管理后台：{url}"
BOT_RUNNING = "机器人已连接 {endpoint}，按 Ctrl-C 或发送 SIGTERM 停止。"
UNBOUND_GROUP = "已解除班级 {code} 与群「{title}」的绑定，并已在群里说明；记入台账。"
UNBOUND_PERSON = "已解除学员 {name} 的钉钉绑定（记入台账）；已单聊通知 {told} 个账号。"
UNBOUND_NOT_REACHABLE = "另有 {count} 个是组织外账号，钉钉不允许机器人主动单聊，请当面或电话告知本人。"
USER_LIST_HEAD = "用户\t角色\t范围\t状态\t有效令牌\t最近登录"
USER_LIST_LINE = "{name}\t{role}\t{scope}\t{state}\t{tokens}\t{last}"
USER_ACTIVE = "启用"
USER_DISABLED = "已停用"
USER_DISABLED_DONE = "已停用用户 {name}：其登录会话已全部结束，接口令牌不再有效（记入台账）。"
USER_ENABLED_DONE = "已重新启用用户 {name}（记入台账）。"
USER_PASSWORD_RESET = "已重置用户 {name} 的密码，旧的登录会话已全部结束。新密码（只显示这一次）：{password}"
USER_UNLOCKED = "已解除用户 {name} 的登录锁定（清除失败记录 {count} 条，记入台账）。"
USER_TOKENS_REVOKED = "已吊销用户 {name} 的接口令牌 {count} 个（记入台账）。"

JOBS_HEADER = "任务\t说明\t下次运行\t上次运行\t结果"
JOBS_LINE = "{line.id}\t{line.title}\t{next}\t{last}\t{outcome}"
JOBS_NEVER = "—"
JOB_OUTCOMES = {"done": "完成", "missed": "错过（调度器未运行）", "running": "运行中", "failed": "出错", "": ""}
JOBS_RAN = "{job}：{detail}"
JOBS_ALREADY = "{job}：这一时刻已运行过，跳过"
BAD_NOW = "--now 应为 ISO-8601 时间（如 2026-12-01T09:30 或 2026-12-01T09:30+08:00），实际为“{value}”"

ROLLCALL_VERIFY_OK = "第 {id} 号点名（班级 {code} 第 {number} 次）复核一致：种子、承诺与抽取名单（{size} 人）都能由记录重新算出。"
ROLLCALL_VERIFY_FAILED = "第 {id} 号点名（班级 {code} 第 {number} 次）复核不一致："
ROLLCALL_VERIFY_SEED = "- 种子不能由记录的台账链头、班级、序号与随机数重新算出"
ROLLCALL_VERIFY_COMMITMENT = "- 种子的 SHA-256 与公布的承诺不符"
ROLLCALL_VERIFY_SAMPLE = "- 抽取名单不符：按种子应为报名号 {expected}，记录为 {recorded}"
ROLLCALL_NO_SUCH_ID = "没有第 {id} 号点名"

# --- R18 archive ------------------------------------------------------------------------------------
ARCHIVE_WRITTEN = ("已写入归档 {path}：{files} 个文件（照片 {photos} 张），{rows} 行记录，本班台账 {events} 个事件，"
                   "链头 #{seq}（{signed}）；数据摘要 {digest}")
ARCHIVE_SIGNED = "已用台账签名密钥签署"
ARCHIVE_UNSIGNED = "没有台账签名密钥文件，链头未签署"
ARCHIVE_MISSING_FILES = "注意：记录中提到的 {count} 个文件不在文件存储中（清单 missing_files 列出）"
ARCHIVE_ABSENT = "尚未实现、不在归档中的类别：{kinds}"
ARCHIVE_VERIFY_OK = ("归档 {path} 校验无误：{files} 个文件的校验和、本班台账 {events} 个事件的链接、{rows} 行记录与台账一致；"
                     "签名链头 #{seq}（{keys}）")
ARCHIVE_VERIFY_UNSIGNED = "无签名链头"
ARCHIVE_KEYS = {"archive": "公钥取自归档本身，未与库外保存的公钥核对", "anchor": "公钥取自存证文件"}
ARCHIVE_ANCHORED = "存证文件中本班的 {count} 个签名链头都在台账片段上（签名与哈希相符）"
ARCHIVE_ANCHOR_LATER = ("注意：存证文件中本班的签名链头 #{seq}（{at}）在本归档台账片段（{events} 个事件）之后：归档之后本班又有记录，"
                        "或者归档的台账片段被截短——请与该链头之后做的归档核对")
ARCHIVE_VERIFY_FAILED = "归档 {path} 校验发现 {count} 处问题："
ARCHIVE_FINDINGS = {
    "unreadable": "{path}：不是可读的 zip 归档",
    "no_manifest": "缺少 manifest.json 或无法解析，无法校验",
    "file_changed": "{path}：文件被改动（SHA-256 或大小与清单不符）",
    "file_added": "{path}：清单中没有这个文件（被添加）",
    "file_removed": "{path}：清单中的文件不在归档中（被删除）",
    "chain": "{path} 第 {line} 行：台账事件 #{seq} 的链接或哈希不符（事件被改动、删除或插入）",
    "slice_end": "{path}：台账片段结束于事件 #{seq}，与清单记载的链头不符",
    "signature": "manifest.json：签名链头（事件 #{seq}）的签名不符，或不在台账片段上",
    "anchor_signature": "存证文件：本班签名链头（事件 #{seq}）的签名不符，或签名密钥不在存证文件的公钥中",
    "anchor_rewritten": "{path}：事件 #{seq} 与存证文件中签名的链头不符（台账片段被改写）",
    "row_changed": "{path} 第 {line} 行：{table} 第 {row_id} 行与台账不符（{columns}）",
    "row_added": "{path} 第 {line} 行：{table} 第 {row_id} 行没有对应的台账事件（被添加）",
    "row_removed": "{path}：台账记载的 {table} 第 {row_id} 行不在归档中（被删除）",
    "bad_line": "{path} 第 {line} 行：无法解析",
}
ARCHIVE_RESUMING = "继续上传上次未完成的归档 {path}（班级数据此后没有变化）"
ARCHIVE_UPLOADED = "已上传到钉盘（空间 {space}）：{name}，文件编号 {id}"
ARCHIVE_UPLOAD_FAILED = ("上传到钉盘未完成：{reason}。进度已记录：再次运行 dingclass archive {code} --upload 从中断处继续"
                         "（运行中的 dingclass run 也会按退避自动重试）")
ARCHIVE_UPLOAD_BUSY = "另一个进程正在上传这个归档"
# Digest replies (bot/digest.py): several replies for one group in one markdown message
DIGEST_TITLE = "机器人回复（{n} 人）"
DIGEST_ATTENTION = "请注意（{n} 人）"
DIGEST_RECORDED = "已记录（{n} 人）"
DIGEST_SOMEONE = "（未署名）"

# Start-up and shutdown of the bot (bot/service.py)
BOT_BAD_CREDENTIALS = ("钉钉拒绝了应用凭证（{code}）：请检查 DINGTALK_CLIENT_ID 和 DINGTALK_CLIENT_SECRET；"
                       "机器人没有启动。")
BOT_TOKEN_REFUSED = "无法取得钉钉的 access token（HTTP {status} {code}）：机器人没有启动。"
BOT_UNREACHABLE = "无法连接钉钉开放接口 {endpoint}（{reason}）：请检查网络和 DINGTALK_OPENAPI_ENDPOINT；机器人没有启动。"
BOT_STREAM_FAILED = "已取得 access token，但钉钉 Stream 连接没有建立（{reason}）：机器人没有启动。"
BOT_STOPPED = "机器人已停止：发件箱中还有 {left} 条消息未发出，已保留，下次启动后发送。"
BOT_STOPPED_EMPTY = "机器人已停止：发件箱已发完。"
BOT_STOP_TIMEOUT = "停止超过 {seconds} 秒，强制退出；未发出的消息保留在发件箱中，下次启动后发送。"
