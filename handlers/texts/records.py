"""Record-keeping: certificates (R20), working days, the institution's bank account and the subsidy package (R19).

A flat module of constants and ``str.format`` templates, grouped by feature; identifiers English, text Chinese.
"""

# --- Certificates (R20, handlers/certificates.py) -------------------------------------------------------
CERT_NOT_APPROVED = "班级 {code} 尚未审核通过（当前：{status}），不能发放证书编号（R02）。"
CERT_INELIGIBLE = "班级 {code} 已失去补贴资格，不能发放证书编号（R15）：{reason}"
CERT_NOT_ENDED = "班级 {code} 的培训到 {end:%Y-%m-%d} 才结束，结束后才能发放证书编号。"
CERT_NO_SUCH_NUMBER = "没有编号为 {number} 的证书。"
CERT_ALREADY_REVOKED = "证书 {number} 已于 {at:%Y-%m-%d} 撤销（理由：{reason}），不重复撤销。"
CERT_COUNTER_BEHIND = ("证书编号计数器（{series}）给出的 {number} 已经发放过：计数器被改动过（请运行 dingclass verify 查明）。"
                       "编号绝不重复使用，本次没有发放任何编号。")
CERT_NO_REASON = "请写明撤销理由（--reason）。"
CERT_ISSUED = "班级 {code}：新发放证书编号 {new} 个，此前已发放 {kept} 个（合格学员共 {qualified} 人）。"
CERT_LINE = "{number}  {name}"
CERT_STALE = "注意：{names} 已有证书，但现在不在合格名单上；如需撤销请用 certificates revoke。"
CERT_REVOKED = "已撤销证书 {number}（{name}，班级 {code}），理由：{reason}。编号不会再发放。"
CERT_WRITTEN = "已写入 {count} 份培训证明和全班合订本：{path}"
CERT_NONE = "班级 {code} 没有合格的学员，没有发放证书编号。"
CERT_PDF_TITLE = "培训证明"
CERT_PDF_NUMBER = "证书编号：{number}"
CERT_PDF_BODY = ("学员{name}于{start:%Y年%m月%d日}至{end:%Y年%m月%d日}参加{institution}举办的"
                 "“{occupation}”职业技能线上培训，完成规定课时，经考核合格，特此证明。")
CERT_PDF_FIELDS = ("姓名", "性别", "身份证号", "职业（工种）", "培训项目", "培训日期", "培训机构", "线上学习", "发证日期")
CERT_PDF_DATES = "{start:%Y年%m月%d日} 至 {end:%Y年%m月%d日}"
CERT_PDF_HOURS = "{earned} 课时（应学 {required} 课时）"
CERT_PDF_ISSUED = "{day:%Y年%m月%d日}"
CERT_PDF_FOOTER = "本证明依据实名制线上培训台账出具（班级编号 {code}）；证书编号唯一，撤销后不再使用。"
CERT_FILE_CLASS = "{code}-培训证明.pdf"
CERT_FILE_ONE = "{number}-{name}.pdf"

# --- Working days (handlers/workdays.py) ----------------------------------------------------------------
WORKDAYS_UNKNOWN_YEAR = ("工作日历还没有 {year} 年的法定节假日和调休安排（计算到 {day:%Y-%m-%d} 时），不能推算公示期的截止日期；"
                         "请在国务院公布 {year} 年安排、升级 chinese-calendar 后再导出。")

# --- Institution bank account (R19, handlers/institutions.py) ------------------------------------------
INSTITUTION_UNKNOWN = "没有名为“{name}”的培训机构（机构在建班时登记）。"
ACCOUNT_BANK_LABEL = "开户银行"
ACCOUNT_NO_BANK = "请写明开户银行（--bank），例如“中国工商银行包头昆都仑支行”。"
ACCOUNT_BAD_NUMBER = "银行账号“{value}”不对：应为 6 到 32 位数字（可以带空格或短横线）。"
ACCOUNT_SET = "已设置 {name} 的开户银行账户：{bank}，账号 {account}（记入台账）。"

# --- Subsidy package (R19, handlers/subsidy.py, handlers/subsidy_package.py) ----------------------------
SUBSIDY_STAGE_NAMES = {"pre": "预拨", "final": "清算"}
SUBSIDY_BASIS_NAMES = {"registered": "实名注册学员", "qualified": "合格学员"}
SUBSIDY_NOT_APPROVED = "班级 {code} 尚未审核通过（当前：{status}），不能申报补贴（R02：未经审核备案的，不予补贴）。"
SUBSIDY_INELIGIBLE = "班级 {code} 已失去补贴资格，不能申报补贴（R15）：{reason}"
SUBSIDY_NO_PREPAY = "班级 {code} 的政策配置 {policy} 不预拨补贴（全部培训完成后一次拨付），请导出 --stage final。"
SUBSIDY_PRE_NOT_FILED = "班级 {code} 的政策配置 {policy} 在市局备案后才预拨，本班还没有备案（dingclass class file）。"
SUBSIDY_NOT_ENDED = "班级 {code} 的培训到 {end:%Y-%m-%d} 才结束，结束后才能导出{stage}申报材料。"
SUBSIDY_NO_STANDARD = "班级 {code} 的培训计划没有补贴标准（subsidy_standard，元/人），无法计算补贴金额。"
SUBSIDY_NO_ACCOUNT = ("培训机构“{name}”还没有开户银行账户，申报材料必须附上："
                      "dingclass institution account {name} --bank 开户银行 --account 账号（或在管理后台设置）。")
SUBSIDY_BAD_START = "公示开始日期“{value}”不对：应为 YYYY-MM-DD，例如 2026-09-29。"
SUBSIDY_FORMULA_PRE = "补贴标准 {standard} 元 × {basis} {count} 人 × 预拨比例 {share} = {amount} 元"
SUBSIDY_FORMULA_CAPPED = "（不超过上限 {ceiling} 元）"
SUBSIDY_FORMULA_FINAL = "补贴标准 {standard} 元 × 合格学员 {qualified} 人 − 已预拨 {prepaid} 元 = {amount} 元（预拨：{pre}）"
SUBSIDY_FORMULA_FINAL_ONLY = "补贴标准 {standard} 元 × 合格学员 {qualified} 人 = {amount} 元（本政策配置不预拨）"
SUBSIDY_REFUND = "（负数：应退回多预拨的补贴）"
SUBSIDY_WRITTEN = ("已写入 {path}：班级 {code} {stage}申报材料，学员 {trainees} 人（计入 {registered}，合格 {qualified}），"
                   "照片 {photos} 张。")
SUBSIDY_AMOUNT_LINE = "补贴金额：{formula}"
SUBSIDY_PUBLICITY_LINE = "公示期：{start:%Y-%m-%d} 起 {days} 个工作日，至 {end:%Y-%m-%d} 止（按国家法定节假日和调休安排计算）。"
SUBSIDY_FILE = "{code}-补贴申报-{stage}.zip"
SUBSIDY_WORKBOOK = "补贴申报表.xlsx"
SUBSIDY_SHEET_SUMMARY = "申报汇总"
SUBSIDY_SHEET_TRAINEES = "学员完成情况"
SUBSIDY_SHEET_ATTENDANCE = "考勤台账{week}"
SUBSIDY_SHEET_QA = "教师答疑"
SUBSIDY_SHEET_HOMEWORK = "作业布置与批改"
SUBSIDY_SHEET_PHOTOS = "学习照片"
SUBSIDY_SHEET_PUBLICITY = "公示名单"
SUBSIDY_TITLE = "{name} 补贴申报（{stage}）"
SUBSIDY_SUMMARY_HEADER = ("项目", "内容")
SUBSIDY_SUMMARY_ITEMS = {
    "stage": "申报阶段", "institution": "培训机构", "bank": "开户银行", "account": "银行账号", "standard": "补贴标准（元/人）",
    "registered": "计入补贴的实名注册学员", "qualified": "合格学员", "removed": "已删除学员（R16）",
    "marked": "取消资格或不符合培训对象条件的学员（R15、R22）", "policy": "政策配置", "share": "预拨比例",
    "basis": "预拨基数", "ceiling": "预拨上限", "amount": "本次申报金额（元）", "formula": "计算", "publicity": "公示期",
    "source": "政策依据",
}
SUBSIDY_TRAINEE_HEADER = ("序号", "姓名", "身份证号", "身份类别", "已学课时", "应学课时", "完成比例", "是否合格", "计入补贴",
                          "签到次数", "签退次数", "交作业", "作业已批改", "提问", "提问已答", "学习照片")
SUBSIDY_COUNTS = {True: "是", False: "否"}
SUBSIDY_NOT_COUNTED = {"removed": "否（已删除：{reason}）", "marked": "否（{reason}）", "unqualified": "否（未达合格标准）"}
SUBSIDY_QA_HEADER = ("问题编号", "答疑场次", "提问学员", "提问时间", "问题", "回答", "回答教师", "回答时间")
SUBSIDY_HOMEWORK_HEADER = ("作业编号", "布置时间", "布置教师", "内容", "截止时间", "已交", "迟交", "已批改")
SUBSIDY_PHOTOS_HEADER = ("序号", "姓名", "身份证号", "日期", "文件", "审核状态")
SUBSIDY_PUBLICITY_HEADER = ("培训机构", "班级", "职业（工种）", "培训人数", "合格人数", "培训平台", "补贴金额（元）", "公示期")
SUBSIDY_PHOTO_STATUS = {"ok": "有效", "accepted": "审核通过"}
SUBSIDY_NOTE_PHOTOS = "照片按学员和日期存放在压缩包的 photos/ 文件夹：photos/<序号>-<姓名>/<日期>-<SHA-256前12位>.<扩展名>；只收计入的照片（R08）。"
SUBSIDY_NOTE_EXPORTED = "导出时间：{at:%Y-%m-%d %H:%M}；导出人：{actor}"
