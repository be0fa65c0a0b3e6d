"""The page-dump table: (dump, expected fields and body) in English, Korean, Japanese, Chinese.

Every text here was written for docpipe's tests (the seed page aside), in the styles news
sites have used over the years. Times are read in Asia/Seoul and expected in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo("Asia/Seoul")
SEED = Path(__file__).resolve().parent.parent.parent / "seeds" / "000_c1ca14e272ef07c8.txt"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@dataclass(frozen=True)
class DumpCase:
    name: str
    dump: str
    body: list[str]
    title: str | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    authors: list[str] = field(default_factory=list)
    author_emails: list[str] = field(default_factory=list)
    editions: list[str] = field(default_factory=list)


def _seed() -> DumpCase:
    text = SEED.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip()]
    return DumpCase(
        name="seed: Dong-A Ilbo English edition",
        dump=text,
        title="China, Russia Highlight Security Cooperation",
        published_at=utc(2002, 7, 18, 13, 21),
        author_emails=["yshwang@donga.com"],
        editions=["ko"],
        body=lines[4:-1],  # after skip link, title, dateline, switcher; before the e-mail
    )


ENGLISH_BODY = [
    "Rice prices climbed for a third straight week as the dry spell in the south dragged on.",
    "Wholesalers said stocks would last until the autumn harvest.",
]

CASES = [
    _seed(),
    DumpCase(
        name="en: clean article loses nothing but its title",
        dump="Markets Rally\n\nStocks rose on Monday.\n\nBonds fell.\n",
        title="Markets Rally",
        body=["Stocks rose on Monday.", "Bonds fell."],
    ),
    DumpCase(
        name="en: furniture at head, middle and tail",
        dump="\n\n".join(
            [
                "Skip to main content",
                "Rice Prices Climb Again",
                "Posted Sept. 3, 2004 09:05, Updated Sept. 4, 2004 10:00",
                "한국어 | 日本語 | 中文",
                "Share | Print | Font size | A+ | A-",
                ENGLISH_BODY[0],
                "Photo: Yonhap",
                ENGLISH_BODY[1],
                "By Kim Ji-hoon Staff Reporter",
                "kim@example.com",
                "Related Articles",
                "Farmers pray for rain",
                "Copyright (c) Example Daily. All rights reserved.",
            ]
        ),
        title="Rice Prices Climb Again",
        published_at=utc(2004, 9, 3, 0, 5),
        updated_at=utc(2004, 9, 4, 1, 0),
        authors=["Kim Ji-hoon"],
        author_emails=["kim@example.com"],
        editions=["ko", "ja", "zh"],
        body=ENGLISH_BODY,
    ),
    DumpCase(
        name="en: traps: e-mail, print, posted and go to contents in sentences; CRLF and BOM",
        dump="\ufeffGo to contents\r\n\r\nReader Mail\r\n\r\n"
        "Readers can write to letters@example.com with their views.\r\n\r\n"
        "The paper will print the best letters on Sunday.\r\n\r\n"
        "She posted the letter and said: go to contents of the box first.\r\n\r\n"
        "Share prices fell.\r\n\r\n"
        "Photographers gathered outside the office.\r\n\r\n"
        "Go to contents\r\n",
        title="Reader Mail",
        body=[
            "Readers can write to letters@example.com with their views.",
            "The paper will print the best letters on Sunday.",
            "She posted the letter and said: go to contents of the box first.",
            "Share prices fell.",
            "Photographers gathered outside the office.",
            "Go to contents",
        ],
    ),
    DumpCase(
        name="en: old style month, several e-mails on the last lines",
        dump="Trade Talks Resume\n\nPosted\u00a0March.\u00a02,\u00a02002\n\n"
        "Negotiators met again on Thursday.\n\na@example.com b@example.com\n\nc@example.com\n",
        title="Trade Talks Resume",
        published_at=utc(2002, 3, 1, 15, 0),
        author_emails=["a@example.com", "b@example.com", "c@example.com"],
        body=["Negotiators met again on Thursday."],
    ),
    DumpCase(
        name="en: only an update time",
        dump="Storm Warning Lifted\n\nUpdated Jul. 9, 2012\n\nThe storm warning was lifted.\n",
        title="Storm Warning Lifted",
        published_at=utc(2012, 7, 8, 15, 0),
        updated_at=utc(2012, 7, 8, 15, 0),
        body=["The storm warning was lifted."],
    ),
    DumpCase(
        name="ko: skip link, two datelines, switcher on lines, caption, byline, related",
        dump="\n".join(
            [
                "본문 바로가기",
                "쌀값 3주째 상승",
                "입력 2003-05-12 18:40 | 수정 2003-05-13 09:10",
                "English",
                "日本語",
                "中文",
                "남부 지방의 가뭄이 길어지면서 쌀값이 3주째 올랐다.",
                "[사진=예시일보]",
                "도매상들은 가을 수확까지 재고가 버틸 것이라고 말했다.",
                "홍길동 기자 hong@example.com",
                "관련기사",
                "농민들 비 기다려",
                "ⓒ 예시일보, 무단전재 및 재배포 금지",
            ]
        ),
        title="쌀값 3주째 상승",
        published_at=utc(2003, 5, 12, 9, 40),
        updated_at=utc(2003, 5, 13, 0, 10),
        authors=["홍길동"],
        author_emails=["hong@example.com"],
        editions=["en", "ja", "zh"],
        body=[
            "남부 지방의 가뭄이 길어지면서 쌀값이 3주째 올랐다.",
            "도매상들은 가을 수확까지 재고가 버틸 것이라고 말했다.",
        ],
    ),
    DumpCase(
        name="ko: traps: 인쇄, 입력 and an e-mail inside sentences",
        dump="독자 편지\n\n"
        "신문은 일요일에 가장 좋은 편지를 인쇄할 예정이다.\n\n"
        "입력 시간은 기사마다 다르다고 편집자는 설명했다.\n\n"
        "의견은 letters@example.com 으로 보내면 된다.\n",
        title="독자 편지",
        body=[
            "신문은 일요일에 가장 좋은 편지를 인쇄할 예정이다.",
            "입력 시간은 기사마다 다르다고 편집자는 설명했다.",
            "의견은 letters@example.com 으로 보내면 된다.",
        ],
    ),
    DumpCase(
        name="ja: skip link, 記事入力 and 最終更新, caption, byline, related, copyright",
        dump="\n\n".join(
            [
                "本文へ",
                "釜山港、1週間ぶりに再開",
                "記事入力 : 2004/08/09 14:25",
                "最終更新 : 2004/08/09 18:00",
                "한국어 | English | 中文",
                "釜山港は桟橋の修理を終え、1週間ぶりに再開した。",
                "写真：共同通信",
                "漁船は正午までに係留地に戻った。",
                "山田太郎記者",
                "yamada@example.jp",
                "関連記事",
                "台風、九州に接近",
                "無断転載を禁じます",
            ]
        ),
        title="釜山港、1週間ぶりに再開",
        published_at=utc(2004, 8, 9, 5, 25),
        updated_at=utc(2004, 8, 9, 9, 0),
        authors=["山田太郎"],
        author_emails=["yamada@example.jp"],
        editions=["ko", "en", "zh"],
        body=[
            "釜山港は桟橋の修理を終え、1週間ぶりに再開した。",
            "漁船は正午までに係留地に戻った。",
        ],
    ),
    DumpCase(
        name="zh: 跳到正文, 发布时间 and 更新时间, caption, 记者 byline, related, copyright",
        dump="\n".join(
            [
                "跳到正文",
                "釜山港修复后重新开放",
                "发布时间 2005.09.01 09:30",
                "更新时间 2005.09.01 12:00",
                "한국어 / English / 日本語",
                "釜山港在完成码头维修后重新开放。",
                "图为重新开放的码头。",
                "渔船中午前回到了停泊地。",
                "记者会上，港务局长宣布了新的安全计划。",
                "记者 崔允贞 报道",
                "cui@example.cn",
                "相关新闻",
                "台风逼近九州",
                "版权所有 示例日报",
            ]
        ),
        title="釜山港修复后重新开放",
        published_at=utc(2005, 9, 1, 0, 30),
        updated_at=utc(2005, 9, 1, 3, 0),
        authors=["崔允贞"],
        author_emails=["cui@example.cn"],
        editions=["ko", "en", "ja"],
        body=[
            "釜山港在完成码头维修后重新开放。",
            "渔船中午前回到了停泊地。",
            "记者会上，港务局长宣布了新的安全计划。",
        ],
    ),
]


def _buttons_and_roles(
    name: str, head: list[str], body: list[str], tail: list[str], **fields: Any
) -> DumpCase:
    """A dump whose bylines carry job titles or desks and whose buttons (some of them named
    by no rule) stand around the e-mail, with only an update time."""
    return DumpCase(name=name, dump="\n".join([*head, *body, *tail]), body=body, **fields)


UPDATED = utc(2014, 2, 2, 23, 0)  # 08:00 in Seoul
CASES += [
    _buttons_and_roles(
        "en: job title and desk in bylines, e-mail before share buttons, only an update time",
        head=[
            "Flood Defences Tested",
            "Updated Feb. 3, 2014 08:00",
            "By Sarah Jones, Environment Correspondent",
            "Facebook | Twitter",
            "Flipboard",
        ],
        body=[
            "Engineers tested the new flood gates on Sunday as the river rose.",
            "The council said the gates held.",
        ],
        tail=[
            "By Business Desk",
            "sarah.jones@example.com",
            "Facebook",
            "Twitter",
            "Pinterest",
            "Copy URL",
        ],
        title="Flood Defences Tested",
        published_at=UPDATED,
        updated_at=UPDATED,
        authors=["Sarah Jones"],
        author_emails=["sarah.jones@example.com"],
    ),
    _buttons_and_roles(
        "ko: 전문기자 byline, e-mail before 공유 buttons, only 수정",
        head=[
            "홍수 방어벽 점검",
            "수정 2014-02-03 08:00",
            "김지훈 환경전문기자",
            "페이스북",
            "트위터",
        ],
        body=[
            "일요일 강물이 불어나자 기술자들이 새 홍수 방어벽을 시험했다.",
            "시의회는 방어벽이 버텼다고 밝혔다.",
        ],
        tail=["kim@example.com", "페이스북", "트위터", "밴드 공유", "URL 복사"],
        title="홍수 방어벽 점검",
        published_at=UPDATED,
        updated_at=UPDATED,
        authors=["김지훈"],
        author_emails=["kim@example.com"],
    ),
    _buttons_and_roles(
        "ja: 特派員 byline, e-mail before シェア buttons, only 最終更新",
        head=[
            "防潮堤を点検",
            "最終更新 : 2014/02/03 08:00",
            "山田太郎特派員",
            "ツイート",
            "シェア",
        ],
        body=[
            "日曜日、川の水位が上がる中、技術者が新しい水門を試験した。",
            "市は水門が持ちこたえたと発表した。",
        ],
        tail=["yamada@example.jp", "ツイート", "シェア", "はてブ", "URLをコピー"],
        title="防潮堤を点検",
        published_at=UPDATED,
        updated_at=UPDATED,
        authors=["山田太郎"],
        author_emails=["yamada@example.jp"],
    ),
    _buttons_and_roles(
        "zh: 特派员 byline, e-mail before 分享 buttons, only 更新时间",
        head=["防洪闸门接受测试", "更新时间 2014.02.03 08:00", "崔允贞 特派员", "分享", "微博"],
        body=["周日河水上涨时，工程师测试了新的防洪闸门。", "市政府表示闸门经受住了考验。"],
        tail=["cui@example.cn", "微信", "微博", "QQ空间", "复制链接"],
        title="防洪闸门接受测试",
        published_at=UPDATED,
        updated_at=UPDATED,
        authors=["崔允贞"],
        author_emails=["cui@example.cn"],
    ),
]

FIELDS = (
    "title",
    "published_at",
    "updated_at",
    "authors",
    "author_emails",
    "editions",
    "body",
)
