"""Every user-facing Chinese message of the admin that is not in a template, in one place for review."""

APP_TITLE = "钉钉班级群培训监管"
NO_SECRET_KEY = "缺少 DINGCLASS_SECRET_KEY：管理后台需要它来签名登录会话，请设置后再启动"

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
PUNCH_NAMES = {"in": "签到", "out": "签退"}

# --- auth ----------------------------------------------------------------------------------------
LOGIN_REQUIRED = "请先登录。"
LOGIN_FAILED = "用户名或密码不正确。"
LOGIN_LOCKED = "登录失败次数过多：{minutes} 分钟内失败 {count} 次，请 {minutes} 分钟后再试，或联系系统管理员。"
LOGGED_OUT = "已退出登录。"
CSRF_FAILED = "页面已过期或缺少安全校验（CSRF），请返回刷新页面后重试。"

# --- errors --------------------------------------------------------------------------------------
NOT_FOUND = "没有找到这个页面，或您无权查看它。"
FORBIDDEN = "您的角色不能进行这项操作。"
BAD_REQUEST = "请求有误。"
SERVER_ERROR = "服务器内部错误，已记录，请稍后再试。"
API_UNAUTHORIZED = "需要有效的接口令牌：请在请求头中提供 Authorization: Bearer <令牌>（用 dingclass user token 签发）"
API_NOT_FOUND = "没有找到：班级不存在或不在您的权限范围内"
API_BAD_DATE = "日期格式不正确：应为 YYYY-MM-DD，例如 2026-12-01（收到“{value}”）"
API_NOT_CLASS_DAY = "{date} 不是班级 {code} 的培训日（培训日期 {start} 至 {end}）"
API_UNKNOWN_PARAMETERS = "不支持的查询参数：{names}（只有 /api/v1/reports/daily 接受 date）"
API_METHOD = "不支持这种请求方法"

# --- actions -------------------------------------------------------------------------------------
STATUS_CHANGED = "班级 {code} 已改为“{status}”（操作人 {actor}）。"
STATUS_ACTION_NAMES = {"approved": "审核通过", "filed": "备案"}
REVIEW_DONE = "照片 #{id} 已{decision}。"
REVIEW_DECISIONS = {True: "通过", False: "驳回"}
REVIEW_PROBLEMS = {
    "reason_required": "请填写审核理由。",
    "not_flagged": "这张照片已经审核过了，不在待审核之列。",
}
REVIEW_FORBIDDEN = "照片审核由监督核查人员（旗县区、市）进行，培训机构不能审核自己学员的照片。"
