"""The custom menu: ``menu/create``, ``menu/get``, ``menu/delete`` and the conditional menus."""

from __future__ import annotations

from typing import Any

from devtools.fake_wechat.server import Fail, FakeWeChatServer, Incoming, endpoint


class MenuEndpoints(FakeWeChatServer):
    menu: dict[str, Any] | None
    conditional_menus: list[dict[str, Any]]

    def _init_state(self) -> None:
        super()._init_state()
        self.menu = None
        self.conditional_menus = []

    @endpoint("menu/create", methods=("POST",))
    def _menu_create(self, incoming: Incoming) -> dict[str, Any]:
        body = self._body(incoming)
        self._validate_menu(body)
        self.menu = {"button": body["button"], "menuid": next(self._ids)}
        return {}

    @endpoint("menu/addconditional", methods=("POST",))
    def _menu_addconditional(self, incoming: Incoming) -> dict[str, Any]:
        body = self._body(incoming)
        if self.menu is None:
            raise Fail(65303)
        if not body.get("matchrule"):
            raise Fail(65304)
        self._validate_menu(body)
        menuid = str(next(self._ids))
        self.conditional_menus.append(
            {"button": body["button"], "matchrule": body["matchrule"], "menuid": menuid}
        )
        return {"menuid": menuid}

    @endpoint("menu/get", methods=("GET",), envelope=False)
    def _menu_get(self, incoming: Incoming) -> dict[str, Any]:
        if self.menu is None:
            raise Fail(46003)
        answer: dict[str, Any] = {"menu": self.menu}
        if self.conditional_menus:
            answer["conditionalmenu"] = self.conditional_menus
        return answer

    @endpoint("menu/delete", methods=("GET",))
    def _menu_delete(self, incoming: Incoming) -> dict[str, Any]:
        self.menu = None
        self.conditional_menus = []
        return {}

    @endpoint("menu/delconditional", methods=("POST",))
    def _menu_delconditional(self, incoming: Incoming) -> dict[str, Any]:
        menuid = str(self._body(incoming).get("menuid"))
        remaining = [m for m in self.conditional_menus if m["menuid"] != menuid]
        if len(remaining) == len(self.conditional_menus):
            raise Fail(46003)
        self.conditional_menus = remaining
        return {}

    @staticmethod
    def _validate_menu(body: dict[str, Any]) -> None:
        buttons = body.get("button")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            raise Fail(40016)
        for button in buttons:
            if len(str(button.get("name", "")).encode("utf-8")) > 16 or not button.get("name"):
                raise Fail(40018)
            subs = button.get("sub_button")
            if subs is None:
                continue
            if not isinstance(subs, list) or len(subs) > 5:
                raise Fail(40023)
            for sub in subs:
                if len(str(sub.get("name", "")).encode("utf-8")) > 60 or not sub.get("name"):
                    raise Fail(40025)
