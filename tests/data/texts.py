"""Short texts in several languages, written for docpipe's tests, shared by the test modules."""

from __future__ import annotations

KOREAN = (
    "중국과 러시아는 양국 간 안보 협력을 강화해야 한다는 데 의견을 모았다. "
    "두 나라는 테러와의 전쟁 같은 국제 문제에서 미국의 독주를 견제해야 한다고 강조했다. "
    "양국 정상은 국경 조약 체결 1주년을 기념하는 서한을 주고받았다."
)
JAPANESE = (
    "中国とロシアは安全保障分野での協力を強化することで一致した。"
    "両国はテロとの戦いなど国際問題で米国の一方的な行動をけん制する必要があると強調した。"
    "国境条約の締結から一年を記念して首脳が書簡を交わした。"
)
CHINESE = (
    "中国和俄罗斯同意加强两国在安全领域的合作。"
    "双方强调，在反恐等国际问题上应当遏制美国的单边主义行为。"
    "两国元首互致信函，庆祝边界条约签订一周年。"
)
ENGLISH = "The harbour reopened on Thursday after a week of repairs to the storm-damaged piers."
FRENCH = "Le port a rouvert jeudi après une semaine de réparations des quais endommagés."
