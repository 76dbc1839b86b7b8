"""The naive peer: transitions + SQLAlchemy ORM, one session per step, doing only
UPDATE state + INSERT history (no rules, no deadlines, no hash chain)."""

import time
from pathlib import Path

from sqlalchemy import ForeignKey, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from transitions import Machine


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "item"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(30))


class Step(Base):
    __tablename__ = "step"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    to_state: Mapped[str] = mapped_column(String(30))


def steps_per_second(path: Path, n: int, items: int) -> float:
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as c:
        c.exec_driver_sql("PRAGMA journal_mode=WAL")
        c.exec_driver_sql("PRAGMA synchronous=NORMAL")
    Base.metadata.create_all(engine)
    machine = Machine(
        model=None, states=["draft", "review"], initial="draft", auto_transitions=False
    )
    machine.add_transition("send", "draft", "review")
    machine.add_transition("back", "review", "draft")
    with Session(engine) as s:
        s.add_all([Item(id=i, state="draft") for i in range(items)])
        s.commit()
    start = time.perf_counter()
    for i in range(n):
        with Session(engine) as s:
            item = s.get(Item, i % items)
            assert item is not None
            action = "send" if item.state == "draft" else "back"
            item.state = machine.events[action].transitions[item.state][0].dest
            s.add(Step(item_id=item.id, to_state=item.state))
            s.commit()
    elapsed = time.perf_counter() - start
    engine.dispose()
    return n / elapsed
