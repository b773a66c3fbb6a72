"""Spoken guidance at the kiosk (适老化): what each screen says, and when. In elder mode every screen says its
prompt as it appears; "读给我听" says it on demand in any mode; a screen change stops what was being said.
The voice is `drivers.protocols.Speaker` (the display's pipeline: the hall's recordings, else espeak-ng).

Guidance is Chinese or English: espeak-ng has no Tibetan voice, so a Tibetan (or pseudo-locale) screen is
read in Chinese. The prompts are this module's catalogue: the words, and the pinyin (tone numbers) espeak-ng
reads them from (`-v cmn` misreads Han characters). A question is read in full in English (from the config);
in Chinese espeak-ng reads the screen's instruction, and a hall that records `question-<matter>-<id>.wav`
gets the question itself read. Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.protocols import Prompt, Speaker
from kiosk.flow import KioskFlow, Screen

#: Screen -> (Chinese, its pinyin for espeak-ng, English).
PROMPTS: dict[Screen, tuple[str, str, str]] = {
    Screen.WELCOME: (
        "欢迎。请点选要办理的事项，或刷身份证取号。",
        (
            "huan1 ying2. qing3 dian3 xuan3 yao4 ban4 li3 de5 shi4 xiang4, "
            "huo4 shua1 shen1 fen4 zheng4 qu3 hao4."
        ),
        "Welcome. Tap the matter you came for, or place your ID card on the reader.",
    ),
    Screen.MATTERS: (
        "请选择要办理的事项。",
        "qing3 xuan3 ze2 yao4 ban4 li3 de5 shi4 xiang4.",
        "Choose what you came for.",
    ),
    Screen.QUESTION: (
        "请回答屏幕上的问题，点是或者否。",
        "qing3 hui2 da2 ping2 mu4 shang4 de5 wen4 ti2, dian3 shi4 huo4 zhe3 fou3.",
        "Tap yes or no.",
    ),
    Screen.MATERIALS: (
        "请勾选您带来的材料。都带齐了，就点下方的大按钮取号。",
        (
            "qing3 gou1 xuan3 nin2 dai4 lai2 de5 cai2 liao4. "
            "dou1 dai4 qi2 le5, jiu4 dian3 xia4 fang1 de5 da4 an4 niu3 qu3 hao4."
        ),
        "Tick the papers you brought. If you have them all, tap the big button to take a number.",
    ),
    Screen.CONFIRM: ("请确认取号。", "qing3 que4 ren4 qu3 hao4.", "Please confirm your ticket."),
    Screen.ISSUING: (
        "正在出票，请稍候。",
        "zheng4 zai4 chu1 piao4, qing3 shao1 hou4.",
        "Printing your ticket, please wait.",
    ),
    Screen.TICKET: (
        "取号成功，请取走您的号票，留意叫号。",
        "qu3 hao4 cheng2 gong1, qing3 qu3 zou3 nin2 de5 hao4 piao4, liu2 yi4 jiao4 hao4.",
        "Here is your number. Please take your ticket and listen for your call.",
    ),
    Screen.NOTICE: (
        "预审未通过。请取走告知单，备齐材料后再来。",
        "yu4 shen3 wei4 tong1 guo4. qing3 qu3 zou3 gao4 zhi1 dan1, bei4 qi2 cai2 liao4 hou4 zai4 lai2.",
        "The pre-check did not pass. Please take the printed list and come back with everything on it.",
    ),
    Screen.BOOKING: (
        "请扫描预约二维码，或输入预约码。",
        "qing3 sao3 miao2 yu4 yue1 er4 wei2 ma3, huo4 shu1 ru4 yu4 yue1 ma3.",
        "Scan your booking QR code, or type the booking code.",
    ),
    Screen.MESSAGE: (
        "暂时不能在这里取号，请看屏幕上的说明，或到服务台咨询。",
        (
            "zan4 shi2 bu4 neng2 zai4 zhe4 li3 qu3 hao4, qing3 kan4 ping2 mu4 shang4 de5 shuo1 ming2, "
            "huo4 dao4 fu2 wu4 tai2 zi1 xun2."
        ),
        "A number cannot be taken here right now. Please read the screen, or ask at the service desk.",
    ),
    Screen.DESK: (
        "请到服务台取号。",
        "qing3 dao4 fu2 wu4 tai2 qu3 hao4.",
        "Please get a ticket at the service desk.",
    ),
    Screen.OFFLINE: (
        "本机暂停服务，请到服务台取号。",
        "ben3 ji1 zan4 ting2 fu2 wu4, qing3 dao4 fu2 wu4 tai2 qu3 hao4.",
        "This kiosk is out of service. Please use the service desk.",
    ),
    Screen.CARD: (
        "您好。请签到今天的预约，或选择事项取号。",
        "nin2 hao3. qing3 qian1 dao4 jin1 tian1 de5 yu4 yue1, huo4 xuan3 ze2 shi4 xiang4 qu3 hao4.",
        "Hello. Check in your booking for today, or choose a matter.",
    ),
}


def prompt_for(flow: KioskFlow) -> Prompt | None:
    """What the flow's screen says now, in the guidance language (None: a screen that says nothing)."""
    words = PROMPTS.get(flow.screen)
    if words is None:
        return None
    zh, pinyin, en = words
    language = "en" if flow.language == "en" else "zh"
    key = flow.screen.value
    if flow.screen is Screen.QUESTION and flow.matter is not None:
        q = flow.current_question
        key = f"question-{flow.matter.code}-{q.id}"
        if language == "en" and q.text_en:
            en = f"{q.text_en} {en}"
        zh = f"{q.text}{zh}"
    return Prompt(key, language, en if language == "en" else zh, en if language == "en" else pinyin)


@dataclass
class Guide:
    """Follows the flow: says each new screen in elder mode, stops speech when the screen changes, and says
    the current screen when asked (读给我听)."""

    speaker: Speaker
    _shown: tuple[object, ...] = ()

    def follow(self, flow: KioskFlow) -> None:
        """Called after every change of the flow."""
        shown = (
            flow.screen,
            flow.question,
            flow.matter.code if flow.matter else "",
            flow.language,
            flow.elder,
        )
        if shown == self._shown:
            return
        moved = shown[:3] != self._shown[:3]
        self._shown = shown
        if flow.elder:
            self.speak(flow)
        elif moved:
            self.speaker.stop()

    def speak(self, flow: KioskFlow) -> None:
        """读给我听: the current screen's prompt, from its start."""
        prompt = prompt_for(flow)
        if prompt is None:
            self.speaker.stop()
        else:
            self.speaker.say(prompt)

    def close(self) -> None:
        self.speaker.close()
