"""A believable demo bank: employees, clients with representatives, managers, dialogs."""

from __future__ import annotations

from sqlalchemy import exists, select

from switchboard.appeals.models import Appeal
from switchboard.auth.principals import Actor, Principal
from switchboard.config import Settings
from switchboard.db.session import Database, Uow
from switchboard.dialogs import service as dialogs
from switchboard.people import clients as client_service
from switchboard.people import service as people
from switchboard.people.models import Client, Employee, Person
from switchboard.people.schemas import ClientCreate, EmployeeCreate, PersonCreate

DEMO_PASSWORD = "demo-password"

# login, full name, permissions, general limit
EMPLOYEES: list[tuple[str, str, list[str], int | None]] = [
    (
        "admin",
        "Ольга Петрова",
        [
            "manage_employees",
            "manage_clients",
            "manage_personal_managers",
            "issue_person_tokens",
            "supervise",
            "general_chat",
        ],
        None,
    ),
    ("supervisor", "Дмитрий Соколов", ["supervise", "general_chat"], 2),
    ("pm.smirnova", "Анна Смирнова", [], None),
    ("pm.volkov", "Игорь Волков", [], None),
    ("pm.kuznetsova", "Мария Кузнецова", ["general_chat"], 2),
    ("op.ivanov", "Сергей Иванов", ["general_chat"], 3),
    ("op.popova", "Елена Попова", ["general_chat"], 3),
    ("op.lebedev", "Алексей Лебедев", ["general_chat"], 5),
    ("op.morozova", "Наталья Морозова", ["general_chat"], None),
    ("pm.admin", "Татьяна Орлова", ["manage_personal_managers", "supervise"], None),
]

ROLES = {
    "admin": "administrator: every permission",
    "supervisor": "supervisor (supervise), general chat",
    "pm.smirnova": "personal manager, active",
    "pm.volkov": "personal manager, offline",
    "pm.kuznetsova": "personal manager and general-chat operator",
    "op.ivanov": "general-chat operator, limit 3",
    "op.popova": "general-chat operator, limit 3",
    "op.lebedev": "general-chat operator, limit 5, on a break",
    "op.morozova": "general-chat operator, default limit, offline",
    "pm.admin": "manages personal managers (manage_personal_managers), supervise",
}

INDIVIDUALS = [
    "Иван Петрович Сидоров",
    "Екатерина Андреевна Белова",
    "Павел Олегович Новиков",
    "Ольга Викторовна Фёдорова",
    "Николай Сергеевич Егоров",
    "Светлана Ивановна Зайцева",
    "Андрей Михайлович Павлов",
    "Юлия Дмитриевна Семёнова",
    "Виктор Павлович Голубев",
    "Марина Алексеевна Виноградова",
    "Константин Ильич Богданов",
    "Ирина Юрьевна Воробьёва",
    "Роман Николаевич Фролов",
    "Алина Сергеевна Медведева",
    "Григорий Львович Ковалёв",
    "Дарья Олеговна Ильина",
    "Максим Андреевич Гусев",
    "Вера Петровна Титова",
    "Степан Аркадьевич Комаров",
    "Людмила Геннадьевна Орлова",
]
LEGAL_ENTITIES = [
    ("ООО «Северный ветер»", ["Анатолий Крылов", "Лариса Крылова"]),
    ("АО «Уральские станки»", ["Борис Шестаков", "Инна Рябова", "Олег Данилов"]),
    ("ООО «Пекарня на Литейном»", ["Тимур Ахметов", "Софья Ахметова"]),
    ("ИП Громов Е. В.", ["Евгений Громов", "Полина Громова"]),
    ("ООО «ТрансЛогистик»", ["Глеб Максимов", "Ксения Лаптева", "Артём Сорокин"]),
    ("АО «Балтийская верфь-сервис»", ["Руслан Кудрявцев", "Нина Баранова"]),
    ("ООО «Зелёный квартал»", ["Валерий Ершов", "Оксана Никитина"]),
    ("ООО «Медтехника плюс»", ["Аркадий Соловьёв", "Жанна Быкова", "Илья Тарасов"]),
    ("ООО «Агрохолдинг Заря»", ["Фёдор Киселёв", "Раиса Мухина"]),
    ("АО «Финансовые решения»", ["Станислав Блинов", "Элина Кравец"]),
]


async def _is_empty(db: Database) -> bool:
    async with db.uow() as uow:
        return not await uow.session.scalar(select(exists().where(Employee.id.is_not(None))))


async def load_demo(settings: Settings) -> list[str] | None:
    """Fill an empty database; returns the logins to print, or None if it had data."""
    db = Database(settings.database_url)
    try:
        if not await _is_empty(db):
            return None
        async with db.uow() as uow:
            await _fill(uow)
            await uow.commit()
    finally:
        await db.dispose()
    return [f"{login:<15} {name} — {ROLES[login]}" for login, name, _, _ in EMPLOYEES]


async def _fill(uow: Uow) -> None:
    system = Actor.system()
    staff: dict[str, Employee] = {}
    for login, name, perms, limit in EMPLOYEES:
        staff[login] = await people.create_employee_txn(
            uow,
            system,
            EmployeeCreate.model_validate(
                {
                    "login": login,
                    "full_name": name,
                    "password": DEMO_PASSWORD,
                    "permissions": perms,
                    "general_limit": limit,
                }
            ),
        )
    admin = Actor("employee", staff["admin"].id)
    managers = [staff["pm.smirnova"], staff["pm.volkov"], staff["pm.kuznetsova"]]

    clients: list[tuple[Client, list[Person]]] = []
    for i, name in enumerate(INDIVIDUALS):
        client = await client_service.create_client_txn(
            uow, admin, ClientCreate(kind="individual", name=name, external_id=f"FL-{1001 + i}")
        )
        person = await client_service.create_person_txn(
            uow, admin, client.id, PersonCreate(name=name, external_id=f"P-FL-{1001 + i}")
        )
        clients.append((client, [person]))
    for i, (name, reps) in enumerate(LEGAL_ENTITIES):
        client = await client_service.create_client_txn(
            uow, admin, ClientCreate(kind="legal_entity", name=name, external_id=f"UL-{501 + i}")
        )
        persons = [
            await client_service.create_person_txn(
                uow, admin, client.id, PersonCreate(name=rep, external_id=f"P-UL-{501 + i}-{j}")
            )
            for j, rep in enumerate(reps)
        ]
        clients.append((client, persons))

    # Managers for most clients; the last few individuals have none (general chat only).
    for i, (client, _) in enumerate(clients):
        if i in (17, 18, 19):
            continue
        await client_service.set_manager_txn(uow, admin, client.id, managers[i % 3].id)

    await people.set_status_txn(uow, system, staff["pm.smirnova"].id, "active")
    for login in ("op.ivanov", "op.popova", "supervisor"):
        await people.set_status_txn(uow, system, staff[login].id, "active")
    await people.set_status_txn(uow, system, staff["op.lebedev"].id, "break")

    async def say(who: Principal, dialog_id: int, text: str) -> None:
        await dialogs.post_message_txn(uow, who, dialog_id, text, None)

    def as_person(index: int, rep: int = 0) -> Principal:
        client, persons = clients[index]
        return Principal(person=persons[rep], client=client)

    async def pm_dialog(index: int, rep: int = 0) -> int:
        dialog, _ = await dialogs.get_or_create_dialog_txn(
            uow, as_person(index, rep), "personal_manager", None
        )
        return dialog.id

    async def general_dialog(index: int, rep: int = 0) -> int:
        dialog, _ = await dialogs.get_or_create_dialog_txn(
            uow, as_person(index, rep), "general", None
        )
        return dialog.id

    smirnova = Principal(employee=staff["pm.smirnova"])

    # Анна Смирнова (active) talks with her client.
    d = await pm_dialog(0)
    await say(as_person(0), d, "Добрый день! Хочу открыть вклад на полгода, какие сейчас ставки?")
    await say(smirnova, d, "Здравствуйте, Иван Петрович! Для вас 14,5% годовых на 6 месяцев.")
    await say(as_person(0), d, "Отлично, а можно пополнять?")

    # Игорь Волков is offline: these wait for him («ожидает персонального менеджера»).
    d = await pm_dialog(1)
    await say(as_person(1), d, "Игорь, добрый вечер. Не проходит платёж по карте за границей.")
    d = await pm_dialog(22, 1)
    await say(as_person(22, 1), d, "Нужна справка об оборотах по счёту за квартал.")

    # General chat: one assigned to an operator, some queued behind busy operators.
    for index, text in [
        (17, "Как заблокировать карту? Кажется, я её потерял."),
        (18, "Подскажите, почему списали комиссию за обслуживание?"),
        (19, "Не приходит СМС с кодом подтверждения."),
        (3, "Где посмотреть реквизиты счёта?"),
    ]:
        await say(as_person(index), await general_dialog(index), text)
    d = await general_dialog(17)
    holder = await uow.session.scalar(
        select(Appeal.assignee_id).where(Appeal.dialog_id == d, Appeal.status == "assigned")
    )
    if holder is not None:
        operator = Principal(employee=await uow.session.get(Employee, holder))
        await say(operator, d, "Карту заблокировали, перевыпуск бесплатный. Что-нибудь ещё?")

    # One manager change already made: client 2 moved from Мария Кузнецова to Анна Смирнова,
    # after a conversation that stays in the same dialog.
    d = await pm_dialog(2)
    kuznetsova = Principal(employee=staff["pm.kuznetsova"])
    await say(kuznetsova, d, "Павел Олегович, напоминаю о продлении страховки до пятницы.")
    await say(as_person(2), d, "Спасибо, продлю.")
    await client_service.set_manager_txn(uow, admin, clients[2][0].id, staff["pm.smirnova"].id)
    await say(as_person(2), d, "Здравствуйте! Теперь вы мой менеджер? Хотел уточнить по ипотеке.")
    # Анна invites a colleague into the legal entity's chat.
    d = await pm_dialog(21)
    await say(as_person(21), d, "Нужна консультация по зарплатному проекту.")
    await dialogs.add_participant_txn(uow, smirnova, d, staff["op.popova"].id)
